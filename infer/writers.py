"""Writing records: JSONL, CSV (one row per incident), an errors list, with atomic files and
resumable runs.

Formats turn ``(document, record)`` pairs into text: a header, per-document rows, a footer.

- ``jsonl``: every record, one per line (error records included), as the schema says.
- ``csv``: ACLED-like, one row per incident (columns: :data:`CSV_COLUMNS`); a document with no
  incident has no row, and error documents have none either: they go to the errors list
  (``--errors FILE``) and to the summary on stderr. Text cells that a spreadsheet would run
  as a formula (starting with = + - @ and longer than one character) get a leading «'».
- ``errors``: CSV ``doc_id, error_type, message`` of the documents that got an error record.

A regular file output is written to ``FILE.partial`` in the same folder and moved over ``FILE`` with
``os.replace`` once complete (after fsync), so an interrupted run never leaves a half-written
``FILE`` and an older ``FILE`` stays intact until then. Every chunk of documents, the partial
files are synced and ``FILE.partial.json`` (the progress file of the main output) records the
number of documents done, the byte size of every partial file, a hash of the inputs read so
far and the settings. ``--resume`` truncates the partial files to those sizes, checks that
the first documents of the input are still the same, skips them and goes on; the result is
byte for byte that of an uninterrupted run.

Outputs that are not regular files are never replaced: a symbolic link is followed (its target
gets the atomic write; the link stays), and a device (``/dev/null``, ``/dev/stdout``), a FIFO or a
socket is written in place as the records come (no ``.partial``, no resume). A folder is refused.
Every write error (``/dev/full``, a full disk, no permission) becomes a :class:`WriteError`
naming the file. While a run writes ``FILE`` it holds an exclusive lock (``flock``) on
``FILE.lock`` (on the FIFO itself for a FIFO): a second run on the same output stops at once
with :class:`OutputLocked` instead of mixing its records in.
"""

from __future__ import annotations

import csv
import errno
import fcntl
import hashlib
import io
import json
import os
import stat
from pathlib import Path
from typing import IO, Any, Iterable, Iterator, Protocol

from hasila.infer.inputs import InputDoc
from hasila.infer.records import dumps
from hasila.infer.types import HasilaError

PROGRESS_VERSION = 2  # 2: the input fingerprint covers warnings and metadata

CSV_COLUMNS: tuple[str, ...] = (
    "doc_id", "incident",
    "event_date", "time_precision", "date_precision", "date_text",
    "actor1", "actor2", "location",
    "fatalities", "fatalities_low", "fatalities_high", "fatalities_qualifier", "fatalities_text",
    "injuries", "injuries_low", "injuries_high", "injuries_qualifier", "injuries_text",
    "source", "outlet", "url", "notes",
    "evidence_start", "evidence_end", "fatalities_start", "fatalities_end", "injuries_start", "injuries_end",
    "confidence",
    # CSV format 2 (Hasila 0.2): appended; columns are only ever appended, never moved or renamed
    "warnings", "hasila_version", "model_sha256", "rules_version", "schema_version",
)  # fmt: skip
# The columns of CSV format 1, which every later format starts with (tests/test_robustness.py).
CSV_COLUMNS_V1: tuple[str, ...] = CSV_COLUMNS[:CSV_COLUMNS.index("confidence") + 1]
ERROR_COLUMNS: tuple[str, ...] = ("doc_id", "error_type", "message")
_ACLED_TIME_PRECISION = {"day": 1, "week": 2, "month": 3}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class WriteError(HasilaError):
    """An output could not be written (disk full, /dev/full, no permission, a folder, ...)."""


class OutputLocked(HasilaError):
    """Another run is writing the same output."""


def _write_error(where: str | os.PathLike, exc: OSError, doing: str = "write") -> WriteError:
    reason = exc.strerror or str(exc)
    return WriteError(f"cannot {doing} {where}: {reason}")


class ResumeError(HasilaError):
    """An interrupted run cannot be resumed as asked (changed input or settings, lost files)."""


class Format(Protocol):
    def header(self) -> str: ...
    def rows(self, doc: InputDoc, record: dict[str, Any]) -> str: ...
    def footer(self) -> str: ...
    def state(self) -> dict[str, Any]: ...
    def restore(self, state: dict[str, Any]) -> None: ...


class _Stateless:
    def header(self) -> str:
        return ""

    def footer(self) -> str:
        return ""

    def state(self) -> dict[str, Any]:
        return {}

    def restore(self, state: dict[str, Any]) -> None:
        pass


class JsonlFormat(_Stateless):
    def rows(self, doc: InputDoc, record: dict[str, Any]) -> str:
        return dumps(record) + "\n"


def _csv_line(values: Iterable[Any]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow(values)
    return buf.getvalue()


def safe_cell(value: Any) -> Any:
    """Neutralize spreadsheet formulas in text cells; numbers and empty cells pass."""
    if isinstance(value, str) and len(value) > 1 and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _text(span: dict | None) -> str:
    return span["text"] if span else ""


def _cell(value: Any) -> Any:
    return "" if value is None else value


def incident_row(record: dict[str, Any], index: int, incident: dict[str, Any]) -> list[Any]:
    """One CSV row (values in :data:`CSV_COLUMNS` order) for one incident of a record."""
    killed, wounded, date = incident.get("killed"), incident.get("wounded"), incident.get("date")
    evidence = incident["evidence"]
    source = incident.get("source")
    precision = date.get("precision") if date else None
    row = [
        record["doc_id"], index + 1,
        _cell(date.get("resolved") if date else None), _cell(_ACLED_TIME_PRECISION.get(precision)),
        _cell(precision), _text(date),
        _text(incident.get("perpetrator")), _text(incident.get("victim")), _text(incident.get("location")),
    ]
    for count in (killed, wounded):
        row += [_cell(count and count.get("value")), _cell(count and count.get("low")),
                _cell(count and count.get("high")), _cell(count and count.get("qualifier")), _text(count)]
    row += [
        _text(source), _cell(record.get("source")), _cell(record.get("url")), evidence["text"],
        evidence["start"], evidence["end"],
        _cell(killed and killed["start"]), _cell(killed and killed["end"]),
        _cell(wounded and wounded["start"]), _cell(wounded and wounded["end"]),
        incident["confidence"],
    ]
    made_by = record.get("producer") or {}
    row += [" | ".join(w["message"] for w in record.get("warnings", ())), _cell(made_by.get("hasila")),
            _cell((record.get("model") or {}).get("sha256")), _cell(made_by.get("rules")), _cell(made_by.get("schema"))]
    return [safe_cell(v) for v in row]


class CsvFormat(_Stateless):
    def __init__(self, bom: bool = False) -> None:
        self.bom = bom  # Excel needs a BOM to read UTF-8 (other tools do not want one)

    def header(self) -> str:
        return ("\ufeff" if self.bom else "") + _csv_line(CSV_COLUMNS)

    def rows(self, doc: InputDoc, record: dict[str, Any]) -> str:
        if record["status"] != "ok":
            return ""
        return "".join(_csv_line(incident_row(record, i, inc)) for i, inc in enumerate(record["incidents"]))


class ErrorsFormat(_Stateless):
    def header(self) -> str:
        return _csv_line(ERROR_COLUMNS)

    def rows(self, doc: InputDoc, record: dict[str, Any]) -> str:
        if record["status"] != "error":
            return ""
        return _csv_line([safe_cell(record["doc_id"]), record["error"]["type"], safe_cell(record["error"]["message"])])


# -- destinations ---------------------------------------------------------------------------


def fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # some platforms cannot open folders; the rename is still atomic
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` via a synced temp file in the same folder and os.replace."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def output_kind(path: str | os.PathLike) -> str:
    """How an output path is written: ``"file"`` (a regular file, or nothing yet, or a link to
    either: atomic rename) or ``"stream"`` (a device, FIFO or socket: written in place).
    Raises WriteError for a folder."""
    try:
        st = os.stat(path)  # follows symbolic links
    except FileNotFoundError:
        return "file"
    except OSError as exc:
        raise _write_error(path, exc, "use") from None
    if stat.S_ISDIR(st.st_mode):
        raise WriteError(f"cannot write {path}: it is a folder")
    return "file" if stat.S_ISREG(st.st_mode) else "stream"


def open_output(path: str | os.PathLike, fmt: "Format") -> "FileOutput | DeviceOutput":
    """The right output for ``path``: see :func:`output_kind`."""
    return FileOutput(path, fmt) if output_kind(path) == "file" else DeviceOutput(path, fmt)


class _Lock:
    """An exclusive, non-blocking ``flock`` on ``path`` (created if needed, removed on release)."""

    def __init__(self, path: Path, shown: Path) -> None:
        self.path, self.shown, self.fd = path, shown, None

    def acquire(self) -> None:
        for _ in range(20):
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise _write_error(self.path, exc, "create the lock file") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                os.close(fd)
                if exc.errno in (errno.EWOULDBLOCK, errno.EACCES):
                    raise OutputLocked(f"{self.shown} is being written by another hasila-extract run (lock: {self.path}); "
                                       "wait for it to finish, or write elsewhere") from None
                raise _write_error(self.path, exc, "lock") from None
            try:  # the lock file may have been removed by the run that held it: lock the new one
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                self.fd = fd
                os.ftruncate(fd, 0)
                os.write(fd, f"{os.getpid()}\n".encode())
                return
            os.close(fd)
        raise OutputLocked(f"cannot lock {self.path}: it keeps being replaced")

    def release(self) -> None:
        if self.fd is None:
            return
        try:
            os.unlink(self.path)
        except OSError:
            pass
        os.close(self.fd)  # closing drops the flock
        self.fd = None


class FileOutput:
    """One regular output file written through ``PATH.partial`` (a link: through its target)."""

    resumable = True

    def __init__(self, path: str | os.PathLike, fmt: Format) -> None:
        self.path = Path(path)  # as the user gave it (messages, progress keys)
        real = Path(os.path.realpath(path)) if os.path.islink(path) else self.path
        self.real = real
        self.partial = real.with_name(real.name + ".partial")
        self.fmt = fmt
        self._fh: IO[bytes] | None = None
        self._lock = _Lock(real.with_name(real.name + ".lock"), self.path)

    def lock(self) -> None:
        try:
            self.real.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _write_error(self.real.parent, exc, "create the folder") from None
        self._lock.acquire()

    def unlock(self) -> None:
        self._lock.release()

    def open(self, resume_at: int | None = None, state: dict[str, Any] | None = None) -> None:
        """Start afresh, or (``resume_at`` bytes) continue a partial file cut back to that size."""
        try:
            self.real.parent.mkdir(parents=True, exist_ok=True)
            if resume_at is None:
                self._fh = open(self.partial, "wb")
                self._fh.write(self.fmt.header().encode("utf-8"))
                return
        except OSError as exc:
            raise _write_error(self.partial, exc) from None
        if not self.partial.exists():
            raise ResumeError(f"cannot resume: {self.partial} is missing")
        if self.partial.stat().st_size < resume_at:
            raise ResumeError(f"cannot resume: {self.partial} is shorter ({self.partial.stat().st_size} bytes) than recorded ({resume_at})")
        try:
            self._fh = open(self.partial, "r+b")
            self._fh.truncate(resume_at)
            self._fh.seek(resume_at)
        except OSError as exc:
            raise _write_error(self.partial, exc) from None
        self.fmt.restore(state or {})

    def write(self, doc: InputDoc, record: dict[str, Any]) -> None:
        text = self.fmt.rows(doc, record)
        if text:
            try:
                self._fh.write(text.encode("utf-8"))
            except OSError as exc:
                raise _write_error(self.partial, exc) from None

    def sync(self) -> int:
        try:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            return self._fh.tell()
        except OSError as exc:
            raise _write_error(self.partial, exc) from None

    def complete(self) -> None:
        """Write the footer and sync; the file is still the partial one."""
        try:
            self._fh.write(self.fmt.footer().encode("utf-8"))
        except OSError as exc:
            raise _write_error(self.partial, exc) from None
        self.sync()
        self._fh.close()
        self._fh = None

    def publish(self) -> None:
        try:
            os.replace(self.partial, self.real)
        except OSError as exc:
            raise _write_error(self.real, exc, "move the finished output into") from None
        fsync_dir(self.real.parent)

    def close(self) -> None:
        if self._fh is not None:
            try:
                self._fh.close()
            except OSError:  # the data is lost anyway (a full disk); the partial file is cut on --resume
                pass
            self._fh = None


class DeviceOutput:
    """A device, FIFO or socket (``/dev/null``, ``/dev/stdout``, a named pipe): written in place,
    as the records come, never replaced; it cannot be resumed. A FIFO is locked against a
    second writer; a device is not (two runs may well write ``/dev/null``)."""

    resumable = False

    def __init__(self, path: str | os.PathLike, fmt: Format) -> None:
        self.path = Path(path)
        self.fmt = fmt
        self._fh: IO[bytes] | None = None

    def lock(self) -> None:
        pass  # the FIFO is locked once open (opening it waits for a reader)

    def unlock(self) -> None:
        self.close()

    def open(self, resume_at: int | None = None, state: dict[str, Any] | None = None) -> None:
        if resume_at is not None:
            raise ResumeError(f"cannot resume: {self.path} is not a regular file")
        try:
            # O_WRONLY without O_TRUNC/O_CREAT: the node is used as it is, never made anew.
            fd = os.open(self.path, os.O_WRONLY)
        except OSError as exc:
            raise _write_error(self.path, exc, "open") from None
        if stat.S_ISFIFO(os.fstat(fd).st_mode):
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                raise OutputLocked(f"{self.path} is being written by another hasila-extract run") from None
        self._fh = os.fdopen(fd, "wb")
        self._write(self.fmt.header())

    def _write(self, text: str) -> None:
        if text:
            try:
                self._fh.write(text.encode("utf-8"))
            except OSError as exc:
                raise _write_error(self.path, exc) from None

    def write(self, doc: InputDoc, record: dict[str, Any]) -> None:
        self._write(self.fmt.rows(doc, record))

    def sync(self) -> int:
        try:
            self._fh.flush()
        except OSError as exc:
            raise _write_error(self.path, exc) from None
        return 0

    def complete(self) -> None:
        self._write(self.fmt.footer())
        self.sync()

    def publish(self) -> None:
        self.close()

    def close(self) -> None:
        if self._fh is not None:
            try:
                self._fh.close()
            except OSError:
                pass
            self._fh = None


class StreamOutput:
    """An output to an open text stream (stdout): written as it goes, flushed per chunk."""

    resumable = False

    def __init__(self, stream: IO[str], fmt: Format) -> None:
        self.stream = stream
        self.fmt = fmt
        self.path = None

    def lock(self) -> None:
        pass

    def unlock(self) -> None:
        pass

    def open(self, resume_at: int | None = None, state: dict[str, Any] | None = None) -> None:
        if resume_at is not None:
            raise ResumeError("cannot resume a run that writes to standard output; use -o FILE")
        self._write(self.fmt.header())

    def _write(self, text: str) -> None:
        if text:
            try:
                self.stream.write(text)
            except BrokenPipeError:
                raise
            except OSError as exc:
                raise _write_error("standard output", exc) from None

    def write(self, doc: InputDoc, record: dict[str, Any]) -> None:
        self._write(self.fmt.rows(doc, record))

    def sync(self) -> int:
        try:
            self.stream.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise _write_error("standard output", exc) from None
        return 0

    def complete(self) -> None:
        self._write(self.fmt.footer())
        self.sync()

    def publish(self) -> None:
        pass

    def close(self) -> None:
        pass


# -- the batch --------------------------------------------------------------------------------


def _doc_fingerprint(doc: InputDoc) -> bytes:
    """What identifies an input document for resuming (its id, text or error, metadata)."""
    fields = [doc.doc_id, doc.text, doc.error and [doc.error.type, doc.error.message],
              doc.date and doc.date.isoformat(), doc.source, doc.url,
              [[w.type, w.message] for w in doc.warnings], doc.metadata]
    data = json.dumps(fields, ensure_ascii=True, sort_keys=True, default=repr).encode("ascii")
    return len(data).to_bytes(8, "big") + data


def progress_path_for(path: str | os.PathLike) -> Path:
    path = Path(path)
    return path.with_name(path.name + ".partial.json")


def read_progress(progress_path: str | os.PathLike) -> dict[str, Any] | None:
    path = Path(progress_path)
    if not path.exists():
        return None
    try:
        progress = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ResumeError(f"cannot resume: progress file {path} is unreadable ({exc})") from None
    if not isinstance(progress, dict) or progress.get("version") != PROGRESS_VERSION:
        raise ResumeError(f"cannot resume: {path} is not a progress file of this version")
    return progress


class BatchWriter:
    """Writes every record to every output, checkpointing after each chunk of documents.

    ``progress_path`` None: no checkpoints (standard output). ``settings``: what must be the
    same for a run to be resumed (model hash, formats, limits, chunk size, ...).
    """

    def __init__(self, outputs: list[FileOutput | StreamOutput], *, progress_path: str | os.PathLike | None,
                 settings: dict[str, Any], chunk_size: int) -> None:
        self.outputs = outputs
        self.progress_path = Path(progress_path) if progress_path is not None else None
        self.settings = settings
        self.chunk_size = chunk_size
        self.done = 0
        self.counts = {"ok": 0, "error": 0, "incidents": 0}
        self._hash = hashlib.sha256()

    def start(self, progress: dict[str, Any] | None = None) -> int:
        """Open the outputs, fresh or from ``progress``; returns the documents already done."""
        if progress is None:
            if self.progress_path is not None and self.progress_path.exists():
                self.progress_path.unlink()  # a stale run's progress must not describe new files
            for out in self.outputs:
                out.open()
            return 0
        if self.progress_path is None:
            raise ResumeError("cannot resume without an output file (-o FILE)")
        if progress["settings"] != self.settings:
            diff = sorted(k for k in set(progress["settings"]) | set(self.settings)
                          if progress["settings"].get(k) != self.settings.get(k))
            raise ResumeError(f"cannot resume: settings differ from the interrupted run ({', '.join(diff)}); "
                              "run again with the same options, or without --resume to start over")
        files = progress["files"]
        for i, out in enumerate(self.outputs):
            key = str(out.path) if out.path is not None else f"<stream {i}>"
            if key not in files:
                raise ResumeError(f"cannot resume: the interrupted run did not write {key}")
            out.open(resume_at=files[key]["bytes"], state=files[key].get("state"))
        self.done = progress["done"]
        self.counts = dict(progress["counts"])
        self._expected_hash = progress["input_sha256"]
        return self.done

    def skip_done(self, docs: Iterable[InputDoc]) -> Iterator[InputDoc]:
        """The documents after the ``done`` first ones, checking those are the same as before."""
        it = iter(docs)
        for n in range(self.done):
            doc = next(it, None)
            if doc is None:
                raise ResumeError(f"cannot resume: the input now has only {n} documents, the interrupted run had done {self.done}")
            self._hash.update(_doc_fingerprint(doc))
        if self.done and self._hash.hexdigest() != self._expected_hash:
            raise ResumeError(f"cannot resume: the first {self.done} input documents differ from those of the interrupted run")
        yield from it

    def write(self, doc: InputDoc, record: dict[str, Any]) -> None:
        self._hash.update(_doc_fingerprint(doc))
        for out in self.outputs:
            out.write(doc, record)
        self.done += 1
        self.counts[record["status"]] += 1
        self.counts["incidents"] += len(record["incidents"])
        if self.done % self.chunk_size == 0:
            self.checkpoint()

    def checkpoint(self) -> None:
        sizes = [out.sync() for out in self.outputs]
        if self.progress_path is None:
            return
        files = {}
        for i, (out, size) in enumerate(zip(self.outputs, sizes)):
            key = str(out.path) if out.path is not None else f"<stream {i}>"
            files[key] = {"bytes": size, "state": out.fmt.state()}
        progress = {"version": PROGRESS_VERSION, "done": self.done, "counts": self.counts,
                    "input_sha256": self._hash.hexdigest(), "settings": self.settings, "files": files}
        atomic_write_text(self.progress_path, json.dumps(progress, ensure_ascii=False, indent=1))

    def finish(self) -> None:
        """Footers, sync, drop the progress file, then move every partial file into place."""
        for out in self.outputs:
            out.complete()
        if self.progress_path is not None and self.progress_path.exists():
            self.progress_path.unlink()
        for out in self.outputs:
            out.publish()

    def close(self) -> None:
        """Close without publishing (the partial files and progress stay for --resume)."""
        for out in self.outputs:
            out.close()
