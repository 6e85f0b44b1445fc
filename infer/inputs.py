"""Reading the documents of a batch, where no bad input stops the batch.

Inputs (in the order given, each read lazily):

- ``FILE.txt`` (or any path that is not ``.jsonl``/``.ndjson``): one document, its id the path
  as given.
- a directory: its ``*.txt`` files, recursively, sorted by path; ids are the paths.
- ``FILE.jsonl`` / ``FILE.ndjson``: one JSON object per line, ``{"id", "text", "date"?,
  "source"?, "url"?}``; blank lines are skipped.
- ``-``: standard input. If its first non-blank line starts with ``{`` it is read as JSONL
  (positions ``-:LINE``), otherwise the whole of it is one text document with id ``-``.

Whatever is wrong with one document becomes an :class:`InputDoc` carrying an
:class:`InputError` (``type`` + a message naming the file and line), and the batch writes an
error record for it: bytes that are not UTF-8, a bad JSON line (id ``FILE:LINE``), a missing
or non-string ``id``/``text``, a bad ``date``, an id seen before (the later one is the error),
empty text, text that is not Arabic, text over the length limit.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO, Iterable, Iterator, Sequence

from hasila.infer.tokenize import BMP_MAX, bmp_char_class

DEFAULT_MAX_CHARS = 200_000
DEFAULT_MIN_ARABIC_SHARE = 0.5  # of the letters; scraped pages carry some Latin (URLs, [ads3])
JSONL_SUFFIXES = (".jsonl", ".ndjson")


@dataclass(frozen=True)
class InputError:
    type: str
    message: str


@dataclass(frozen=True)
class InputDoc:
    """One document of the batch: its text, or the reason it has none."""

    doc_id: str
    text: str | None = None
    error: InputError | None = None
    date: dt.date | None = None
    source: str | None = None
    url: str | None = None
    where: str = ""  # file (and line) it came from, for messages
    # Text checks left to the pipeline's worker processes (InputReader(defer_text_checks=True)):
    # (max_chars, min_arabic_share); see :func:`check_doc_text`.
    deferred_checks: tuple[int, float] | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def _is_arabic_letter(ch: str) -> bool:
    cp = ord(ch)
    return (0x0600 <= cp <= 0x06FF or 0x0750 <= cp <= 0x077F or 0x08A0 <= cp <= 0x08FF
            or 0xFB50 <= cp <= 0xFDFF or 0xFE70 <= cp <= 0xFEFF) and ch.isalpha()


@lru_cache(maxsize=1)
def _letter_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    # Runs of letters / of Arabic letters, from the same predicates as the loop below: the
    # check runs in the main process for every document, so it must be cheap (regex: ~10x).
    return (re.compile(bmp_char_class(str.isalpha) + "+"), re.compile(bmp_char_class(_is_arabic_letter) + "+"))


def arabic_share(text: str) -> float:
    """Share of Arabic letters among the letters of ``text`` (0 when it has no letters)."""
    if not text or max(text) <= BMP_MAX:
        letter_runs, arabic_runs = _letter_patterns()
        letters = sum(map(len, letter_runs.findall(text)))
        arabic = sum(map(len, arabic_runs.findall(text)))
        return arabic / letters if letters else 0.0
    letters = arabic = 0
    for ch in text:
        if ch.isalpha():
            letters += 1
            arabic += _is_arabic_letter(ch)
    return arabic / letters if letters else 0.0


def parse_date(value: str, where: str) -> dt.date:
    """``YYYY-MM-DD`` (a longer ISO timestamp is cut to its date)."""
    try:
        return dt.date.fromisoformat(value[:10])
    except (ValueError, TypeError):
        raise ValueError(f"{where}: date {value!r} is not an ISO date (YYYY-MM-DD)") from None


def text_problem(text: str, where: str, *, max_chars: int, min_arabic_share: float) -> InputError | None:
    """Why ``text`` cannot be read as an Arabic article, or None."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return InputError("bad_text", f"{where}: text holds a lone surrogate at character {exc.start} (not valid Unicode)")
    if not text.strip():
        return InputError("empty_text", f"{where}: the text is empty or only whitespace")
    if len(text) > max_chars:
        return InputError("too_long", f"{where}: the text has {len(text):,} characters, over the limit of {max_chars:,} (--max-chars)")
    share = arabic_share(text)
    if share < min_arabic_share:
        return InputError("not_arabic", f"{where}: only {share:.0%} of the letters are Arabic (needs {min_arabic_share:.0%})")
    return None


def decode_utf8(data: bytes, where: str) -> tuple[str | None, InputError | None]:
    """Strict UTF-8 (a leading BOM is dropped); the error names the byte offset."""
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        return None, InputError("not_utf8", f"{where}: not UTF-8 text (bad byte 0x{data[exc.start]:02x} at byte {exc.start})")


class InputReader:
    """Turns input arguments into InputDocs; keeps the ids seen to flag duplicates."""

    def __init__(self, *, max_chars: int = DEFAULT_MAX_CHARS, min_arabic_share: float = DEFAULT_MIN_ARABIC_SHARE,
                 default_date: dt.date | None = None, stdin: BinaryIO | None = None,
                 defer_text_checks: bool = False, file_dates: bool = False, sidecar: str | None = None) -> None:
        self.max_chars = max_chars
        # Per-file dates (.txt inputs): a ``file,date`` sidecar (``sidecar``, else FOLDER/dates.csv),
        # then a date in the file name (infer/filedates.py); ``default_date`` for files with neither.
        self.file_dates = file_dates or sidecar is not None
        self._sidecar: dict[str, dt.date] = {}
        if sidecar is not None:
            from hasila.infer.filedates import read_sidecar

            self._sidecar = read_sidecar(sidecar)
        # The length/Arabic checks read every character: with worker processes they run there
        # (the pipeline applies them), keeping the reading process free. Same error records.
        self.defer_text_checks = defer_text_checks
        self.min_arabic_share = min_arabic_share
        self.default_date = default_date
        self.stdin = stdin
        self._seen: dict[str, str] = {}

    def read(self, inputs: Sequence[str]) -> Iterator[InputDoc]:
        for arg in inputs:
            if arg == "-":
                yield from self._read_stdin()
            elif os.path.isdir(arg):
                if self.file_dates and os.path.isfile(os.path.join(arg, "dates.csv")):
                    from hasila.infer.filedates import read_sidecar

                    self._sidecar = {**read_sidecar(os.path.join(arg, "dates.csv")), **self._sidecar}
                for path in sorted_txt_files(arg):
                    yield self._text_doc(path, self._read_text_file(path))
            elif arg.lower().endswith(JSONL_SUFFIXES):
                try:
                    with open(arg, "rb") as fh:
                        yield from self._jsonl_docs(arg, fh)
                except OSError as exc:
                    yield self._finish(InputDoc(arg, error=InputError("read_error", f"{arg}: cannot read: {exc.strerror}"), where=arg))
            else:
                yield self._text_doc(arg, self._read_text_file(arg))

    def docs_from_objects(self, items: Iterable[object], where: str = "<api>") -> Iterator[InputDoc]:
        """Python API inputs: strings (ids "0", "1", ...), InputDocs, or dicts like JSONL lines."""
        for i, item in enumerate(items):
            if isinstance(item, InputDoc):
                yield self._finish(item)
            elif isinstance(item, str):
                yield self._finish(InputDoc(str(i), text=item, date=self.default_date, where=f"{where}[{i}]"))
            elif isinstance(item, dict):
                yield self._object_doc(item, f"{where}[{i}]")
            else:
                yield self._finish(InputDoc(str(i), error=InputError(
                    "bad_input", f"{where}[{i}]: expected a str, dict or InputDoc, got {type(item).__name__}"), where=f"{where}[{i}]"))

    # -- sources -----------------------------------------------------------------------------

    def _read_stdin(self) -> Iterator[InputDoc]:
        stream = self.stdin if self.stdin is not None else sys.stdin.buffer
        data = stream.read()
        first = next((line for line in data.splitlines() if line.strip()), b"")
        if first.lstrip().lstrip(b"\xef\xbb\xbf").startswith(b"{"):
            yield from self._jsonl_docs("-", data.splitlines(keepends=True))
        else:
            yield self._text_doc("-", (data, None))

    def _read_text_file(self, path: str) -> tuple[bytes | None, InputError | None]:
        try:
            size = os.path.getsize(path)
        except OSError as exc:
            return None, InputError("read_error", f"{path}: cannot read: {exc.strerror}")
        if size > 4 * self.max_chars + 3:  # more bytes than max_chars UTF-8 characters can take
            return None, InputError("too_long", f"{path}: {size:,} bytes, over the limit of {self.max_chars:,} characters (--max-chars)")
        return _read_bytes(path)

    def _text_doc(self, path: str, read: tuple[bytes | None, InputError | None]) -> InputDoc:
        data, error = read
        if error is None:
            text, error = decode_utf8(data, path)
        if error is not None:
            return self._finish(InputDoc(path, error=error, where=path))
        return self._finish(InputDoc(path, text=text, date=self._file_date(path), where=path))

    def _file_date(self, path: str) -> dt.date | None:
        if not self.file_dates or path == "-":
            return self.default_date
        from hasila.infer.filedates import date_from_name

        return (self._sidecar.get(path) or self._sidecar.get(os.path.normpath(path))
                or self._sidecar.get(os.path.basename(path)) or date_from_name(os.path.basename(path)) or self.default_date)

    def _jsonl_docs(self, path: str, lines: Iterable[bytes]) -> Iterator[InputDoc]:
        for lineno, raw in enumerate(lines, start=1):
            where = f"{path}:{lineno}"
            if lineno == 1:
                raw = raw.removeprefix(b"\xef\xbb\xbf")
            if not raw.strip():
                continue
            line, error = decode_utf8(raw, where)
            if error is not None:
                yield self._finish(InputDoc(where, error=error, where=where))
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                yield self._finish(InputDoc(where, error=InputError("bad_json", f"{where}: not a JSON object: {exc.msg} at column {exc.colno}"), where=where))
                continue
            if not isinstance(obj, dict):
                yield self._finish(InputDoc(where, error=InputError("bad_json", f"{where}: expected a JSON object, got {type(obj).__name__}"), where=where))
                continue
            yield self._object_doc(obj, where)

    def _object_doc(self, obj: dict, where: str) -> InputDoc:
        doc_id = obj.get("id")
        if isinstance(doc_id, int) and not isinstance(doc_id, bool):
            doc_id = str(doc_id)
        if not isinstance(doc_id, str) or not doc_id:
            what = "no \"id\"" if doc_id is None else f"\"id\" is {json.dumps(doc_id)[:40]}, not a non-empty string"
            return self._finish(InputDoc(where, error=InputError("missing_field", f"{where}: {what}"), where=where))
        text = obj.get("text")
        if not isinstance(text, str):
            what = "no \"text\"" if text is None else f"\"text\" is a {type(text).__name__}, not a string"
            return self._finish(InputDoc(doc_id, error=InputError("missing_field", f"{where} (id {doc_id!r}): {what}"), where=where))
        extras = {}
        for key in ("source", "url"):
            value = obj.get(key)
            if value is not None and not isinstance(value, str):
                return self._finish(InputDoc(doc_id, error=InputError("bad_field", f"{where} (id {doc_id!r}): \"{key}\" is not a string"), where=where))
            extras[key] = value
        date = self.default_date
        raw_date = obj.get("date")
        if raw_date not in (None, ""):
            try:
                if not isinstance(raw_date, str):
                    raise ValueError(f"{where} (id {doc_id!r}): \"date\" is a {type(raw_date).__name__}, not a string")
                date = parse_date(raw_date, f"{where} (id {doc_id!r})")
            except ValueError as exc:
                return self._finish(InputDoc(doc_id, error=InputError("bad_date", str(exc)), where=where, **extras))
        return self._finish(InputDoc(doc_id, text=text, date=date, where=where, **extras))

    def _finish(self, doc: InputDoc) -> InputDoc:
        """Duplicate-id and text checks, common to every source."""
        first = self._seen.get(doc.doc_id)
        if first is not None:
            return InputDoc(doc.doc_id, error=InputError("duplicate_id", f"{doc.where}: id {doc.doc_id!r} was already used at {first}"),
                            date=doc.date, source=doc.source, url=doc.url, where=doc.where)
        self._seen[doc.doc_id] = doc.where or doc.doc_id
        if doc.error is None:
            if self.defer_text_checks:
                return dataclasses.replace(doc, deferred_checks=(self.max_chars, self.min_arabic_share))
            problem = check_doc_text(doc, self.max_chars, self.min_arabic_share)
            if problem is not None:
                return InputDoc(doc.doc_id, error=problem, date=doc.date, source=doc.source, url=doc.url, where=doc.where)
        return doc


def check_doc_text(doc: InputDoc, max_chars: int, min_arabic_share: float) -> InputError | None:
    """Why a document's text cannot be read as an Arabic article, or None."""
    where = doc.where if doc.where == doc.doc_id else f"{doc.where} (id {doc.doc_id!r})"
    return text_problem(doc.text or "", where, max_chars=max_chars, min_arabic_share=min_arabic_share)


def sorted_txt_files(directory: str) -> list[str]:
    """``*.txt`` files under ``directory`` (recursively), sorted, as paths joined to it."""
    found = []
    for root, dirs, files in os.walk(directory):
        dirs.sort()
        for name in files:
            if name.lower().endswith(".txt"):
                found.append(os.path.join(root, name))
    return sorted(found, key=lambda p: Path(p).parts)


def _read_bytes(path: str) -> tuple[bytes | None, InputError | None]:
    try:
        with open(path, "rb") as fh:
            return fh.read(), None
    except OSError as exc:
        return None, InputError("read_error", f"{path}: cannot read: {exc.strerror}")


def missing_inputs(inputs: Sequence[str]) -> list[str]:
    """Input arguments that name nothing (a usage error, checked before the batch starts)."""
    return [a for a in inputs if a != "-" and not os.path.exists(a)]
