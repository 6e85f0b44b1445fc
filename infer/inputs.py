"""Reading the documents of a batch, where no bad input stops the batch.

Inputs (in the order given, each read lazily):

- ``FILE.txt`` (or any path that is not ``.jsonl``/``.ndjson``): one document, its id the path
  as given.
- a directory: its ``*.txt`` files, recursively, sorted by path; ids are the paths.
- ``FILE.jsonl`` / ``FILE.ndjson``: one JSON object per line, ``{"id", "text", "date"?,
  "source"?, "url"?}``; blank lines are skipped.
- ``-``: standard input. If its first non-blank line starts with ``{`` it is read as JSONL
  (positions ``-:LINE``), otherwise the whole of it is one text document with id ``-``.

Encodings (``InputReader(encoding=...)``, ``--encoding``): ``auto`` (the default) reads a
UTF-8 or UTF-16 byte-order mark, then UTF-8, then Windows-1256 (common in Arabic archives) when
the bytes are not UTF-8 and do not look like damaged UTF-8 either (most of their high bytes in
valid UTF-8 sequences: those get a ``not_utf8`` error, not mojibake); such a document carries a
warning saying how it was read. ``utf-8``, ``cp1256`` and ``utf-16`` read only that. A BOM is
never part of the text: offsets count from the first character after it, as an editor shows it.

Problems that do not stop a document become warnings in its record (``warnings: [{type,
message}]``): a malformed ``date`` (``10/08/2015``, ``2015-8-10``, a number) is ignored (the
``--date`` default is used, else none) and the warning says why. JSONL fields other than
``id``, ``text``, ``date``, ``source``, ``url`` are kept, as given, in the record's ``metadata``.

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

import numpy as np

from hasila.infer.tokenize import beyond_bmp

DEFAULT_MAX_CHARS = 200_000
DEFAULT_MIN_ARABIC_SHARE = 0.5  # of the letters; scraped pages carry some Latin (URLs, [ads3])
JSONL_SUFFIXES = (".jsonl", ".ndjson")
ENCODINGS = ("auto", "utf-8", "cp1256", "utf-16")
KNOWN_FIELDS = frozenset({"id", "text", "date", "source", "url"})
_UTF8_BOM, _UTF16_BOMS = b"\xef\xbb\xbf", (b"\xff\xfe", b"\xfe\xff")
_UTF8_SEQ = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
_HIGH_BYTE = re.compile(rb"[\x80-\xff]")
_HIGH_RUN = re.compile(rb"[\x80-\xff]{2}")


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
    # Problems that did not stop the document (bad date, encoding guessed): record "warnings".
    warnings: tuple[InputError, ...] = ()
    # Input fields besides id/text/date/source/url, as given: record "metadata".
    metadata: dict | None = dataclasses.field(default=None, compare=False)
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
def _letter_kinds() -> np.ndarray:
    # Per BMP code point, from the same predicates as the loop below: 0 no letter, 1 a letter,
    # 2 an Arabic letter. The check runs in the main process for every document, so it must be
    # cheap: a table lookup per character is ~8x faster than two regex scans for letter runs.
    chars = [chr(cp) for cp in range(0x10000)]
    letter = np.fromiter(map(str.isalpha, chars), dtype=np.uint8, count=len(chars))
    return letter + np.fromiter(map(_is_arabic_letter, chars), dtype=np.uint8, count=len(chars))


def arabic_share(text: str) -> float:
    """Share of Arabic letters among the letters of ``text`` (0 when it has no letters)."""
    if not beyond_bmp(text):
        # one UTF-16 code unit per character (a lone surrogate too: no letter)
        units = np.frombuffer(text.encode("utf-16-le", "surrogatepass"), dtype="<u2")
        _, letters, arabic = np.bincount(_letter_kinds()[units], minlength=3).tolist()
        letters += arabic
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


def _looks_like_utf16(data: bytes) -> str | None:
    """``utf-16-le``/``-be`` for BOM-less UTF-16 of ASCII/Arabic text: a NUL or an Arabic block
    high byte at 60 % or more of every other position (punctuation, joiners and emoji have other
    high bytes; UTF-8 and Windows-1256 Arabic never come near it: checked on all 599 webnews
    excerpts in each encoding), else None."""
    if len(data) < 4 or len(data) % 2:
        return None
    for codec, high in (("utf-16-le", data[1::2]), ("utf-16-be", data[0::2])):
        if sum(1 for b in high if b in (0, 6)) >= 0.6 * len(high):
            return codec
    return None


def decode_bytes(data: bytes, where: str, encoding: str = "auto") -> tuple[str | None, InputError | None, InputError | None]:
    """``(text, error, warning)``: the bytes of one document read in ``encoding`` (see the
    module's docstring); a leading BOM is dropped, so offsets match what an editor shows."""
    if encoding not in ENCODINGS:
        raise ValueError(f"encoding {encoding!r}: one of {', '.join(ENCODINGS)}")
    if encoding == "utf-8" or (encoding == "auto" and data.startswith(_UTF8_BOM)):
        text, error = decode_utf8(data, where)
        return text, error, None
    if encoding == "utf-16" or (encoding == "auto" and data.startswith(_UTF16_BOMS)):
        codec = "utf-16" if data.startswith(_UTF16_BOMS) else "utf-16-le"
        try:
            text = data.decode(codec)
        except UnicodeDecodeError as exc:
            return None, InputError("bad_encoding", f"{where}: not UTF-16 text ({exc.reason} at byte {exc.start})"), None
        return text, None, None  # the utf-16 codec drops the BOM itself (a second U+FEFF is text)
    if encoding == "cp1256":
        return _decode_cp1256(data, where), None, None
    # auto, no BOM. UTF-16 first: BOM-less UTF-16 of Arabic (bytes 0x06 and ASCII) is valid UTF-8.
    utf16 = _looks_like_utf16(data)
    if utf16:
        try:
            return data.decode(utf16), None, InputError("encoding", f"{where}: read as {utf16.upper()} (no byte-order mark; --encoding auto)")
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8"), None, None
    except UnicodeDecodeError as exc:
        utf8_error = InputError("not_utf8", f"{where}: not UTF-8 text (bad byte 0x{data[exc.start]:02x} at byte {exc.start})")
    high = len(_HIGH_BYTE.findall(data))
    in_utf8 = sum(map(len, _UTF8_SEQ.findall(data)))
    if not _HIGH_RUN.search(data):  # a stray high byte in ASCII text: no Arabic word in any encoding
        return None, utf8_error, None
    if in_utf8 / high > 0.5:  # damaged UTF-8, not another encoding: reading it as one would be mojibake
        return None, InputError("not_utf8", utf8_error.message + "; the rest looks like UTF-8, so the file is damaged"), None
    text = _decode_cp1256(data, where)
    return text, None, InputError("encoding", f"{where}: not UTF-8; read as Windows-1256 (--encoding auto; "
                                              "give --encoding if that is wrong)")


def _decode_cp1256(data: bytes, where: str) -> str:
    # Every byte is defined in Python's cp1256; a UTF-8 BOM there means the user named the wrong encoding.
    return data.decode("cp1256")


class InputReader:
    """Turns input arguments into InputDocs; keeps the ids seen to flag duplicates."""

    def __init__(self, *, max_chars: int = DEFAULT_MAX_CHARS, min_arabic_share: float = DEFAULT_MIN_ARABIC_SHARE,
                 default_date: dt.date | None = None, stdin: BinaryIO | None = None,
                 defer_text_checks: bool = False, encoding: str = "auto", file_dates: bool = False,
                 sidecar: str | None = None) -> None:
        if encoding not in ENCODINGS:
            raise ValueError(f"encoding {encoding!r}: one of {', '.join(ENCODINGS)}")
        self.encoding = encoding
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
                        head = fh.read(4096)
                        fh.seek(0)
                        if self._whole_file_encoding(head if len(head) < 4096 else head[:4096 - 4096 % 2]):
                            text, error, warning = decode_bytes(fh.read(), arg, self.encoding)
                            if error is not None:
                                yield self._finish(InputDoc(arg, error=error, where=arg))
                            else:
                                yield from self._jsonl_text_docs(arg, text, warning)
                        else:
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
        if self._whole_file_encoding(data):
            text, error, warning = decode_bytes(data, "-", self.encoding)
            if text is not None and text.lstrip().startswith("{"):
                yield from self._jsonl_text_docs("-", text, warning)
            else:
                yield self._text_doc("-", (data, None))
            return
        first = next((line for line in data.splitlines() if line.strip()), b"")
        if first.lstrip().lstrip(b"\xef\xbb\xbf").startswith(b"{"):
            yield from self._jsonl_docs("-", data.splitlines(keepends=True))
        else:
            yield self._text_doc("-", (data, None))

    def _whole_file_encoding(self, data: bytes) -> bool:
        """Whether JSONL must be decoded as a whole before splitting lines (UTF-16)."""
        return self.encoding == "utf-16" or (self.encoding == "auto" and (
            data.startswith(_UTF16_BOMS) or (not data.startswith(_UTF8_BOM) and _looks_like_utf16(data) is not None)))

    def _read_text_file(self, path: str) -> tuple[bytes | None, InputError | None]:
        try:
            size = os.path.getsize(path)
        except OSError as exc:
            return None, InputError("read_error", f"{path}: cannot read: {exc.strerror}")
        if size > 4 * self.max_chars + 4:  # more bytes than max_chars UTF-8 characters can take
            return None, InputError("too_long", f"{path}: {size:,} bytes, over the limit of {self.max_chars:,} characters (--max-chars)")
        return _read_bytes(path)

    def _text_doc(self, path: str, read: tuple[bytes | None, InputError | None]) -> InputDoc:
        data, error = read
        warning = None
        if error is None:
            text, error, warning = decode_bytes(data, path, self.encoding)
        if error is not None:
            return self._finish(InputDoc(path, error=error, where=path))
        return self._finish(InputDoc(path, text=text, date=self._file_date(path), where=path,
                                     warnings=(warning,) if warning else ()))

    def _jsonl_text_docs(self, path: str, text: str, warning: InputError | None) -> Iterator[InputDoc]:
        """JSONL already decoded as a whole (UTF-16); lines end at \\n (JSON escapes any other)."""
        for lineno, line in enumerate(text.removeprefix("\ufeff").split("\n"), start=1):
            if line.strip():
                yield self._jsonl_line(line, f"{path}:{lineno}", warning)

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
            line, error, warning = decode_bytes(raw, where, "utf-8" if self.encoding == "auto" and _is_utf8(raw) else self.encoding)
            if error is not None:
                yield self._finish(InputDoc(where, error=error, where=where))
                continue
            yield self._jsonl_line(line, where, warning)

    def _jsonl_line(self, line: str, where: str, warning: InputError | None) -> InputDoc:
        try:
            obj = json.loads(line)
        except (json.JSONDecodeError, RecursionError) as exc:
            why = f"{exc.msg} at column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
            return self._finish(InputDoc(where, error=InputError("bad_json", f"{where}: not a JSON object: {why}"), where=where))
        if not isinstance(obj, dict):
            return self._finish(InputDoc(where, error=InputError("bad_json", f"{where}: expected a JSON object, got {type(obj).__name__}"), where=where))
        return self._object_doc(obj, where, (warning,) if warning else ())

    def _object_doc(self, obj: dict, where: str, warnings: tuple[InputError, ...] = ()) -> InputDoc:
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
        unknown = {k: v for k, v in obj.items() if k not in KNOWN_FIELDS}
        extras: dict = {"metadata": unknown or None}
        for key in ("source", "url"):
            value = obj.get(key)
            if value is not None and not isinstance(value, str):
                return self._finish(InputDoc(doc_id, error=InputError("bad_field", f"{where} (id {doc_id!r}): \"{key}\" is not a string"), where=where,
                                             metadata=extras["metadata"]))
            extras[key] = value
        date = self.default_date
        raw_date = obj.get("date")
        if raw_date not in (None, ""):
            try:
                if not isinstance(raw_date, str):
                    raise ValueError(f"{where} (id {doc_id!r}): \"date\" {json.dumps(raw_date)[:40]} is a "
                                     f"{type(raw_date).__name__}, not a string YYYY-MM-DD")
                date = parse_date(raw_date, f"{where} (id {doc_id!r})")
            except ValueError as exc:
                instead = f"the --date default {self.default_date.isoformat()} is used" if self.default_date else \
                    "the document is read without a date (relative dates such as «أمس» stay unresolved)"
                warnings = warnings + (InputError("bad_date", f"{exc}; ignored: {instead}"),)
        return self._finish(InputDoc(doc_id, text=text, date=date, where=where, warnings=warnings, **extras))

    def _finish(self, doc: InputDoc) -> InputDoc:
        """Duplicate-id and text checks, common to every source."""
        first = self._seen.get(doc.doc_id)
        if first is not None:
            return InputDoc(doc.doc_id, error=InputError("duplicate_id", f"{doc.where}: id {doc.doc_id!r} was already used at {first}"),
                            date=doc.date, source=doc.source, url=doc.url, where=doc.where, warnings=doc.warnings,
                            metadata=doc.metadata)
        self._seen[doc.doc_id] = doc.where or doc.doc_id
        if doc.error is None:
            if self.defer_text_checks:
                return dataclasses.replace(doc, deferred_checks=(self.max_chars, self.min_arabic_share))
            problem = check_doc_text(doc, self.max_chars, self.min_arabic_share)
            if problem is not None:
                return dataclasses.replace(doc, text=None, error=problem)
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


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def missing_inputs(inputs: Sequence[str]) -> list[str]:
    """Input arguments that name nothing (a usage error, checked before the batch starts)."""
    return [a for a in inputs if a != "-" and not os.path.exists(a)]
