"""``hasila-events``: analyst-ready events from ``hasila-extract`` records — one row per event,
across articles, geocoded, in ACLED or UCDP GED shape.

    hasila-extract news.jsonl -o records.jsonl
    hasila-events records.jsonl --format acled -o events.csv --html events.html
    hasila-events records.jsonl --format ucdp -o ged.csv
    hasila-events records.jsonl --format jsonl -o events.jsonl      # every report, claim and source

A line that is not a record (bad JSON, no ``doc_id``/``status``) is reported on stderr with its file
and line and skipped; error records have no events. Exit status: 0 done, 1 writing failed, 2 usage
errors (missing input, bad options).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Iterator

from hasila.infer.exports import EVENT_FORMATS, render

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="hasila-events",
        description="Events from hasila-extract's JSONL records: the incidents of one event in an article joined, "
                    "reports of one event across articles clustered (place, date window, sides, figures), geocoded, "
                    "with actor and event types, as ACLED or UCDP GED rows.")
    p.add_argument("inputs", nargs="+", metavar="RECORDS", help="JSONL files written by hasila-extract (- for standard input)")
    p.add_argument("-o", "--output", metavar="FILE", help="output file (default: standard output); written atomically")
    p.add_argument("--format", choices=EVENT_FORMATS, default=None,
                   help="acled or ucdp (CSV, their full column sets) or jsonl (default: jsonl, or acled if -o ends in .csv)")
    p.add_argument("--html", metavar="FILE", help="also write an HTML report of the events (filters by country and confidence)")
    p.add_argument("--window", type=int, default=3, metavar="DAYS",
                   help="days two reports of one event may be apart when both give the day (default: 3)")
    p.add_argument("--no-across", action="store_true", help="do not join reports across articles (one event per article event)")
    return p


def read_records(paths: list[str]) -> Iterator[dict[str, Any]]:
    for path in paths:
        fh = sys.stdin if path == "-" else open(path, encoding="utf-8")
        try:
            for lineno, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    print(f"hasila-events: {path}:{lineno}: not JSON ({exc.msg}); line skipped", file=sys.stderr)
                    continue
                if not isinstance(record, dict) or "doc_id" not in record or "status" not in record:
                    print(f"hasila-events: {path}:{lineno}: not a hasila-extract record (no doc_id/status); line skipped",
                          file=sys.stderr)
                    continue
                if record["status"] == "ok" and not isinstance(record.get("incidents"), list):
                    print(f"hasila-events: {path}:{lineno}: record {record['doc_id']!r} has no incidents list; skipped",
                          file=sys.stderr)
                    continue
                yield record
        finally:
            if fh is not sys.stdin:
                fh.close()


def _write(path: str, text: str) -> None:
    tmp = f"{path}.partial"
    with open(tmp, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    problems = [f"input {p!r} does not exist" for p in args.inputs if p != "-" and not os.path.isfile(p)]
    if args.window < 0:
        problems.append("--window must be 0 or more")
    outs = [o for o in (args.output, args.html) if o]
    if len({os.path.abspath(o) for o in outs}) < len(outs):
        problems.append("-o and --html must be different files")
    for o in outs:
        if os.path.abspath(o) in {os.path.abspath(i) for i in args.inputs}:
            problems.append(f"output {o!r} is also an input: it would be overwritten")
    if problems:
        parser.print_usage(sys.stderr)
        for problem in problems:
            print(f"hasila-events: error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    fmt = args.format or ("acled" if args.output and args.output.lower().endswith(".csv") else "jsonl")
    from hasila.infer.events import build_events

    records = list(read_records(args.inputs))
    events = build_events(records, window_days=args.window, across=not args.no_across)
    text = render(events, fmt)
    try:
        if args.output:
            _write(args.output, text)
        else:
            sys.stdout.write(text)
        if args.html:
            from hasila.infer.report_html import events_page

            _write(args.html, events_page(events, records))
    except OSError as exc:
        print(f"hasila-events: error: cannot write: {exc}", file=sys.stderr)
        return EXIT_FAILED
    n_docs = len({d for e in events for d in e.doc_ids})
    print(f"hasila-events: {len(records)} records, {len(events)} events from {n_docs} articles", file=sys.stderr)
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
