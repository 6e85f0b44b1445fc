"""A tiny BERT token classifier with Hasila's labels, built on the fly for tests.

``build_tiny_model(path)`` trains a WordPiece tokenizer on a few made-up Arabic sentences,
creates a 2-layer BERT (hidden 32) whose ``id2label`` is Hasila's BIO tag set, and saves both
with ``save_pretrained`` so that ``AutoModelForTokenClassification`` / ``AutoTokenizer`` (and
``transformers.pipeline``) load them like any checkpoint. ``train_steps > 0`` fits the model
to the sentences' tags for a few steps so that it predicts something non-random; with the
default 0 it is random (but seeded, so the same every build).

``max_positions`` is small (64) on purpose: documents longer than that exercise the sliding
windows of the runtime. Nothing here downloads anything.
"""

from __future__ import annotations

import re
from pathlib import Path

from hasila.infer.labels import BIO_TAGS, ID2TAG, TAG2ID
from hasila.infer.tokenize import split_words

# Made-up sentences (not from any corpus) in a tiny bracket markup: «[LABEL words]».
TINY_SENTENCES: tuple[str, ...] = (
    "أفاد [ORG المرصد السوري] بمقتل [KILLED 35] عنصرا من [ORG قوات النظام] في [LOC بادية حمص] يوم [DATE السبت] .",
    "قتل [KILLED ثمانية] جنود وأصيب [WOUNDED خمسة] آخرون بهجوم في [LOC ريف دير الزور] [DATE أمس] .",
    "ذكرت [ORG وكالة أعماق] أن مقاتلي [ORG التنظيم] قتلوا [KILLED ضابطين] قرب [LOC مدينة تدمر] .",
    "ارتفع عدد القتلى إلى [KILLED 15] على الأقل بينهم [KILLED 6] ضباط في [LOC البادية] .",
    "قال [PER أحمد الخطيب] إن [KILLED العشرات] قتلوا وجرح [WOUNDED 12] مدنيا في [LOC الرقة] .",
    "هاجم عناصر [ORG تنظيم الدولة الإسلامية] موقعا لـ [ORG قوات الأسد] في [LOC ريف حمص الشرقي] [DATE قبل يومين] .",
    "استمر الهجوم 48 ساعة وتم تدمير دبابتين على بعد 17 كيلومترا من [LOC السخنة] .",
    "أصيب [WOUNDED ٣] أطفال بجروح في قصف على [LOC قرية الزيارة] [DATE الجمعة] .",
    "نقلت [ORG مصادر ميدانية] أن [KILLED 1,365] قتيلا سقطوا منذ [DATE آذار 2019] .",
    "اقرأ المزيد : تعليقات القراء على الخبر ومشاركة الرابط .",
)


def parse_markup(sentence: str) -> tuple[str, list[str]]:
    """``"[LOC بادية حمص] ..."`` → (plain text, one BIO tag per word of split_words)."""
    plain, spans, pos = [], [], 0
    for m in re.finditer(r"\[(\w+) ([^\]]+)\]|([^\[]+)", sentence):
        if m.group(1):
            start = pos
            plain.append(m.group(2))
            pos += len(m.group(2))
            spans.append((start, pos, m.group(1)))
        else:
            plain.append(m.group(3))
            pos += len(m.group(3))
    text = "".join(plain)
    tags = []
    for ws, we in split_words(text):
        tag = "O"
        for s, e, label in spans:
            if s <= ws and we <= e:
                tag = ("B-" if ws == s else "I-") + label
        tags.append(tag)
    return text, tags


def tiny_corpus() -> list[tuple[list[str], list[str]]]:
    """The made-up sentences as (words, tags)."""
    out = []
    for sentence in TINY_SENTENCES:
        text, tags = parse_markup(sentence)
        out.append(([text[s:e] for s, e in split_words(text)], tags))
    return out


def _build_tokenizer(vocab_size: int, max_positions: int):
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=False, lowercase=False)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=specials, min_frequency=1)
    texts = [parse_markup(s)[0] for s in TINY_SENTENCES]
    tok.train_from_iterator(texts, trainer)
    cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)],
    )
    tok.decoder = decoders.WordPiece()
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=max_positions,
    )


def _fit(model, tokenizer, steps: int) -> None:
    """A few AdamW steps on the made-up sentences (first sub-word of each word labelled)."""
    import torch

    corpus = tiny_corpus()
    enc = tokenizer([w for w, _ in corpus], is_split_into_words=True, padding=True, return_tensors="pt")
    labels = torch.full(enc["input_ids"].shape, -100, dtype=torch.long)
    for i, (_, tags) in enumerate(corpus):
        previous = None
        for j, w in enumerate(enc.word_ids(i)):
            if w is not None and w != previous:
                labels[i, j] = TAG2ID[tags[w]]
            previous = w
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    # One thread: these matrices are tiny, and on a shared machine more threads only wait
    # for each other (150 steps: ~1 s on one thread, 20+ s on two busy cores).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        model.train()
        for _ in range(steps):
            opt.zero_grad()
            loss = model(**enc, labels=labels).loss
            loss.backward()
            opt.step()
        model.eval()
    finally:
        torch.set_num_threads(threads)


def build_tiny_model(path: str | Path, *, train_steps: int = 0, max_positions: int = 64, seed: int = 0) -> Path:
    """Save a tiny Hasila token classifier (model + tokenizer) under ``path``; returns the path."""
    import torch
    from transformers import BertConfig, BertForTokenClassification

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    tokenizer = _build_tokenizer(vocab_size=400, max_positions=max_positions)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=max_positions,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
        id2label=dict(ID2TAG),
        label2id=dict(TAG2ID),
        num_labels=len(BIO_TAGS),
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(seed)
    model = BertForTokenClassification(config)
    model.eval()
    if train_steps:
        _fit(model, tokenizer, train_steps)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


if __name__ == "__main__":  # python tests/tiny_model.py OUT_DIR [STEPS]
    import sys

    print(build_tiny_model(sys.argv[1], train_steps=int(sys.argv[2]) if len(sys.argv) > 2 else 0))
