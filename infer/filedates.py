"""Per-file article dates for folder input: a sidecar file, or a date in the file's name.

- Sidecar: ``FOLDER/dates.csv`` (or a file given with ``--dates``) with rows ``file,date``
  (``file`` relative to the folder or as given on the command line, ``date`` YYYY-MM-DD; a header
  row ``file,date`` is allowed). A bad row is an error naming the file and line.
- Name pattern (:func:`date_from_name`): ``2015-08-10``, ``2015_08_10``, ``20150810`` or
  ``2015/08/10`` (as in news URLs) anywhere in the path; the year must be 1990-2099 and the date
  real. The sidecar wins over the name; ``--date`` is the fallback for files with neither.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path

from .types import HasilaError

__all__ = ["date_from_name", "read_sidecar", "SidecarError"]

_PATTERN = re.compile(r"(?<!\d)((?:19|20)\d\d)([-_/.]?)(0[1-9]|1[0-2])\2(0[1-9]|[12]\d|3[01])(?!\d)")


class SidecarError(HasilaError):
    """A dates sidecar file cannot be read."""


def date_from_name(name: str) -> dt.date | None:
    """The first real date written in a file name or URL, or None."""
    for m in _PATTERN.finditer(name):
        year = int(m.group(1))
        if not 1990 <= year <= 2099:
            continue
        try:
            return dt.date(year, int(m.group(3)), int(m.group(4)))
        except ValueError:
            continue
    return None


def read_sidecar(path: str | Path) -> dict[str, dt.date]:
    """``{file: date}`` from a ``file,date`` CSV; keys as written and resolved against its folder."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise SidecarError(f"dates file {path}: cannot be read ({exc})") from None
    out: dict[str, dt.date] = {}
    for line_no, row in enumerate(csv.reader(text.splitlines()), start=1):
        if not row or not "".join(row).strip():
            continue
        if line_no == 1 and [c.strip().lower() for c in row[:2]] == ["file", "date"]:
            continue
        if len(row) < 2:
            raise SidecarError(f"dates file {path}, line {line_no}: expected 'file,date', got {','.join(row)!r}")
        name, value = row[0].strip(), row[1].strip()
        try:
            date = dt.date.fromisoformat(value[:10])
        except ValueError:
            raise SidecarError(f"dates file {path}, line {line_no}: {value!r} is not a date (YYYY-MM-DD)") from None
        out[name] = date
        out[str((path.parent / name))] = date
    return out
