"""The extraction pipeline: documents in, one record per document out, in input order.

For each document: normalize (keeping the map to original offsets) → split words → the
token classifier → BIO decoding → the kind of each count from its words,
and counts that are no casualties dropped (``casualty``) → incident assembly → record. Entities are reported over the
whole text (they are what the model read); incident assembly ignores those in page furniture
(readers' comments, related-article titles, ad markers: see ``assembly`` and ``furniture``),
which are not reports.

Documents are processed in chunks (``chunk_size`` documents): the model sees all windows of
a chunk, sorted by length, in batches of ``batch_size``. Chunks start at fixed document
positions, so a run resumed at a chunk boundary computes exactly what an uninterrupted run
does. A failure in one document (normalizer, assembler, a broken span) becomes that
document's error record; the batch goes on.

Python use::

    from hasila.infer.pipeline import extract
    records = extract(["نص الخبر الأول", "نص الخبر الثاني"], model="models/hasila-ner")
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterable, Iterator, Sequence

from hasila.infer.assembly import assemble_incidents
from hasila.infer.casualty import read_counts
from hasila.infer.decode import decode_entities, entity_to_original
from hasila.infer.inputs import InputDoc, InputReader
from hasila.infer.model import TokenClassifier, find_model
from hasila.infer.normalize import NormalizedText, normalize
from hasila.infer.records import check_record, error_record, ok_record
from hasila.infer.tokenize import split_words


log = logging.getLogger("hasila.extract")

DEFAULT_BATCH_SIZE = 16


def default_chunk_size(batch_size: int) -> int:
    """Documents per chunk: enough windows to sort into several full batches."""
    return max(32, 4 * batch_size)


@dataclass
class _Prepared:
    doc: InputDoc
    norm: NormalizedText
    words: list[tuple[int, int]]


class Extractor:
    """Runs the pipeline with one loaded model; reusable across batches."""

    def __init__(self, model: TokenClassifier | str | None = None, *, device: str | None = "auto",
                 batch_size: int = DEFAULT_BATCH_SIZE, dtype: Any = None, chunk_size: int | None = None) -> None:
        if isinstance(model, TokenClassifier):
            self.classifier = model
        else:
            self.classifier = TokenClassifier.load(find_model(model), device=device, dtype=dtype, batch_size=batch_size)
        self.batch_size = batch_size
        self.chunk_size = chunk_size or default_chunk_size(batch_size)
        self.model_info = self.classifier.info.to_json()

    def extract(self, docs: Iterable[InputDoc]) -> Iterator[dict[str, Any]]:
        """One record per document, in input order, streamed chunk by chunk."""
        for _, record in self.extract_pairs(docs):
            yield record

    def extract_pairs(self, docs: Iterable[InputDoc]) -> Iterator[tuple[InputDoc, dict[str, Any]]]:
        """Like :meth:`extract`, each record with its input document (for reports)."""
        it = iter(docs)
        while chunk := list(itertools.islice(it, self.chunk_size)):
            yield from self._process_chunk(chunk)

    # -- one chunk ---------------------------------------------------------------------------

    def _process_chunk(self, chunk: Sequence[InputDoc]) -> list[tuple[InputDoc, dict[str, Any]]]:
        # Per document: a _Prepared to run through the model, or its (error) record already.
        prepared: list[_Prepared | dict[str, Any]] = []
        for doc in chunk:
            if doc.error is not None:
                prepared.append(self._error(doc, doc.error.type, doc.error.message))
                continue
            try:
                norm = normalize(doc.text)
                prepared.append(_Prepared(doc, norm, split_words(norm.text)))
            except Exception as exc:  # one document's failure must not stop the batch
                prepared.append(self._internal_error(doc, "normalization", exc))
        predictions = self._predict([p for p in prepared if isinstance(p, _Prepared)])
        out = []
        for doc, item in zip(chunk, prepared):
            if isinstance(item, dict):
                out.append((doc, item))
                continue
            pred = predictions[id(item)]
            if isinstance(pred, Exception):
                out.append((doc, self._internal_error(doc, "the model", pred)))
                continue
            try:
                record = self._record(item, pred)
            except Exception as exc:
                record = self._internal_error(doc, "incident assembly", exc)
            out.append((doc, record))
        return out

    def _predict(self, todo: Sequence[_Prepared]) -> dict[int, Any]:
        """Word predictions per prepared doc; if the batch fails, doc by doc so one bad
        document (e.g. one that exhausts memory) costs only its own record."""
        words = [[p.norm.text[s:e] for s, e in p.words] for p in todo]
        try:
            preds = self.classifier.predict(words, batch_size=self.batch_size)
            return {id(p): pred for p, pred in zip(todo, preds)}
        except Exception as exc:
            if len(todo) <= 1:
                return {id(p): exc for p in todo}
            log.warning("model failed on a chunk (%s: %s); retrying document by document", type(exc).__name__, exc)
        out: dict[int, Any] = {}
        for p, w in zip(todo, words):
            try:
                out[id(p)] = self.classifier.predict([w], batch_size=1)[0]
            except Exception as exc:
                out[id(p)] = exc
        return out

    def _record(self, item: _Prepared, predictions: Sequence[tuple[str, float]]) -> dict[str, Any]:
        doc, norm = item.doc, item.norm
        entities = decode_entities(norm.text, item.words, predictions)
        entities = read_counts(norm.text, entities)
        incidents = assemble_incidents(norm, entities, doc.date)
        record = ok_record(
            doc.doc_id, doc.text, entities=[entity_to_original(norm, e) for e in entities],
            incidents=incidents, model=self.model_info, date=doc.date, source=doc.source, url=doc.url,
        )
        check_record(record, doc.text)
        return record

    def _error(self, doc: InputDoc, error_type: str, message: str) -> dict[str, Any]:
        return error_record(doc.doc_id, error_type, message, model=self.model_info,
                            date=doc.date, source=doc.source, url=doc.url)

    def _internal_error(self, doc: InputDoc, stage: str, exc: Exception) -> dict[str, Any]:
        log.warning("%s: %s failed", doc.doc_id, stage, exc_info=exc)
        where = doc.where or doc.doc_id
        return self._error(doc, "internal_error", f"{where}: {stage} failed: {type(exc).__name__}: {exc}")


@lru_cache(maxsize=2)
def _cached_extractor(model: str | None, device: str | None, batch_size: int) -> Extractor:
    return Extractor(model, device=device, batch_size=batch_size)


def extract(texts_or_docs: Iterable[str | dict | InputDoc], model: str | TokenClassifier | None = None, *,
            device: str | None = "auto", batch_size: int = DEFAULT_BATCH_SIZE,
            date: dt.date | str | None = None) -> list[dict[str, Any]]:
    """Records for texts (ids "0", "1", ...), JSONL-like dicts or InputDocs, in order.

    ``model``: a checkpoint folder, hub id or loaded TokenClassifier (default: $HASILA_MODEL,
    then the shipped model); ``date``: the article date for inputs that carry none.
    Loaded models are cached, so calling this repeatedly is cheap.
    """
    if isinstance(texts_or_docs, str):
        raise TypeError("extract() takes a list of texts; wrap a single text as [text]")
    if isinstance(date, str):
        date = dt.date.fromisoformat(date)
    if isinstance(model, TokenClassifier):
        extractor = Extractor(model, batch_size=batch_size)
    else:
        extractor = _cached_extractor(str(model) if model is not None else None, device, batch_size)
    docs = InputReader(default_date=date).docs_from_objects(texts_or_docs)
    return list(extractor.extract(docs))
