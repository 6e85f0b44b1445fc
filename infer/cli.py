"""``hasila-extract``: incidents from Arabic news articles, in batch.

    hasila-extract articles/ -o incidents.jsonl
    hasila-extract news.jsonl --format csv -o incidents.csv --errors errors.csv --html report.html
    cat one_article.txt | hasila-extract - --date 2019-04-20
    hasila-extract --ray auto s3://bucket/news/ -o s3://bucket/out/    # on a Ray cluster: infer/distributed.py

Exit status (also in --help):

    0    the batch ran; some documents may have error records (see --strict)
    1    writing an output failed (disk full, /dev/full, no permission, a folder)
    2    usage error: bad options, missing inputs or model, a run that cannot be resumed
    3    every document failed (no record with status "ok"; there was at least one input)
    4    --strict, and at least one document got an error record (the outputs are written)
    5    another hasila-extract run is writing the same output
    130  interrupted (rerun with --resume to continue)

Outputs (-o, --html, --errors) that are not regular files are never replaced: devices
(/dev/null, /dev/stdout) and FIFOs are written in place, a symbolic link's target is written
(atomically) and the link kept. See infer/writers.py.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import sys

from hasila.infer import distributed
from hasila.infer.inputs import DEFAULT_MAX_CHARS, DEFAULT_MIN_ARABIC_SHARE, InputReader, missing_inputs
from hasila.infer.types import HasilaError

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
EXIT_ALL_FAILED, EXIT_STRICT, EXIT_LOCKED = 3, 4, 5
EXIT_STATUS_HELP = (
    "exit status: 0 the batch ran (some documents may have error records); 1 writing an output failed; "
    "2 usage error (bad options, missing input or model, cannot resume); 3 every document failed; "
    "4 --strict and some document failed; 5 another run is writing the same output; 130 interrupted."
)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="hasila-extract",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Extract incidents (killed, wounded, perpetrator, victim, place, date, source) from Arabic "
                    "news articles. One record per input document, in input order.",
        epilog="INPUT: a .txt file (id = its path), a folder (its .txt files, recursively, sorted), a .jsonl file "
               "of {\"id\", \"text\", \"date\"?, \"source\"?, \"url\"?} lines, or - for standard input (JSONL if its "
               "first line starts with '{', else one text document with id '-'). Bad documents (not UTF-8, empty, "
               "not Arabic, too long, bad JSON line, missing fields, duplicate ids) get error records; the batch goes on. "
               "CSV has one row per incident; documents with errors are listed by --errors and on stderr.\n\n"
               + EXIT_STATUS_HELP,
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT")
    p.add_argument("-o", "--output", metavar="FILE", help="output file (default: standard output); written atomically")
    p.add_argument("--format", choices=("jsonl", "csv"), help="output format (default: csv if -o ends in .csv, else jsonl)")
    p.add_argument("--html", metavar="FILE", help="also write a self-contained HTML report to check the results")
    p.add_argument("--errors", metavar="FILE", help="also write the documents that failed, as CSV (doc_id, error_type, message)")
    p.add_argument("--date", metavar="YYYY-MM-DD", help="article date for inputs that carry none (resolves «أمس», «السبت», ...)")
    p.add_argument("--model", metavar="PATH", help="model folder (default: $HASILA_MODEL, else the model installed with Hasila, "
                                                   "models/hasila-ner); a Hugging Face hub id only with --allow-download")
    p.add_argument("--allow-download", action="store_true",
                   help="let --model name a Hugging Face hub id to download (default: offline; a --model that is not a "
                        "folder is an error at once)")
    p.add_argument("--encoding", choices=("auto", "utf-8", "cp1256", "utf-16"), default="auto",
                   help="text encoding of the inputs (default: auto: a UTF-8/UTF-16 byte-order mark, else UTF-8, else "
                        "Windows-1256 with a warning in the record; damaged UTF-8 gets an error record)")
    p.add_argument("--strict", action="store_true",
                   help=f"exit with status {EXIT_STRICT} when any document got an error record (the outputs are still written)")
    p.add_argument("--file-dates", action="store_true",
                   help="per-file article dates for .txt inputs: FOLDER/dates.csv (rows file,date) or a date in the file "
                        "name (2015-08-10, 20150810, 2015_08_10); --date for files with neither")
    p.add_argument("--dates", metavar="FILE", help="a file,date CSV of article dates for .txt inputs (implies --file-dates)")
    p.add_argument("--device", default="auto", help="auto (CUDA if available), cpu, cuda, cuda:N (default: auto)")
    p.add_argument("--dtype", choices=("float32", "bfloat16", "float16"),
                   help="load the weights in this type (default: float32; CUDA runs under bf16/fp16 autocast)")
    p.add_argument("--runtime", choices=("auto", "torch", "bf16", "onnx", "int8"), default="auto",
                   help="what runs the model: torch (PyTorch fp32), bf16 (PyTorch, bf16 weights: fast on CPUs with AMX), "
                        "onnx (ONNX Runtime fp32, same logits within 1e-4) or int8 (ONNX Runtime, int8 linear layers; "
                        "needs the model's int8_calibration.json). bf16 and int8 pass the parity gates against fp32 "
                        "(README, Speed). auto: torch on CUDA; on CPU bf16 with AMX, else int8 with VNNI and a "
                        "calibration, else onnx when onnxruntime is installed. ONNX graphs are built on first use into "
                        "$HASILA_CACHE/onnx (default ~/.cache/hasila/onnx)")
    p.add_argument("--batch-size", type=int, metavar="N",
                   help="model windows per batch (default: 16 on CPU, 512 on CUDA, the fastest measured on each)")
    p.add_argument("--stride", type=int, metavar="N",
                   help="sub-word tokens shared by neighbouring windows of a long article (default: the model's own, "
                        "from training; 16 instead of 32 was 11%% faster at equal dev F1 for the shipped model)")
    p.add_argument("--threads", type=int, metavar="N", help="CPU threads for the model (default: torch's, which follows OMP_NUM_THREADS)")
    p.add_argument("--workers", type=int, metavar="N",
                   help="processes for the CPU work around the model (normalizing, tokenizing, assembling incidents) "
                        "while the model runs (default: all cores but one, at most 16, on CUDA; 0 on CPU, where the "
                        "model already uses every core). Results are the same for any N")
    p.add_argument("--explain", action="store_true",
                   help="add to each JSONL record the fate of every killed/wounded figure ('provenance': the incident it "
                        "made, or the figure it is a part, repeat or earlier toll of, or why it was dropped), with the "
                        "assembly rule (A...) that decided it and the words that made the rule fire")
    p.add_argument("--disable-rules", metavar="A7b,A6,...",
                   help="turn these assembly rules off (those that drop, merge or reassign figures: A3 A3b A3c A3d A4 A5 "
                        "A5b A6 A7b A7c A7d A7e A15 A17 A18 A19 A20 A21 A22; see hasila/infer/assembly/__init__.py)")
    p.add_argument("--resume", action="store_true",
                   help="continue an interrupted run that wrote to the same -o FILE (a finished FILE: nothing to do)")
    p.add_argument("--max-chars", type=int, default=DEFAULT_MAX_CHARS, metavar="N",
                   help=f"longer texts get an error record (default: {DEFAULT_MAX_CHARS})")
    p.add_argument("--min-arabic-share", type=float, default=DEFAULT_MIN_ARABIC_SHARE, metavar="F",
                   help=f"texts whose letters are less Arabic than this get an error record (default: {DEFAULT_MIN_ARABIC_SHARE})")
    p.add_argument("--csv-bom", action="store_true", help="start CSV files with a BOM so that Excel reads them as UTF-8")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no summary")
    distributed.add_arguments(p)
    return p


def _usage_problems(args: argparse.Namespace) -> list[str]:
    if args.ray is not None:  # inputs may be URLs: checked when the run plans its shards
        return distributed.usage_problems(args) + _option_problems(args)
    problems = [f"input {a!r} does not exist" for a in missing_inputs(args.inputs)]
    if args.inputs.count("-") > 1:
        problems.append("standard input (-) can be given only once")
    if args.dates and not os.path.isfile(args.dates):
        problems.append(f"--dates {args.dates!r} is not a file")
    if args.resume and not args.output:
        problems.append("--resume needs -o FILE (the output of the interrupted run)")
    return problems + _option_problems(args) + _output_problems(args)


def _option_problems(args: argparse.Namespace) -> list[str]:
    problems = []
    if args.batch_size is not None and args.batch_size < 1:
        problems.append("--batch-size must be at least 1")
    if args.stride is not None and args.stride < 0:
        problems.append("--stride must be 0 or more")
    if args.workers is not None and args.workers < 0:
        problems.append("--workers must be 0 or more")
    if args.threads is not None and args.threads < 1:
        problems.append("--threads must be at least 1")
    if args.max_chars < 1:
        problems.append("--max-chars must be at least 1")
    if not 0.0 <= args.min_arabic_share <= 1.0:
        problems.append("--min-arabic-share must be between 0 and 1")
    if args.disable_rules:
        from hasila.infer.assembly import check_disable

        try:
            check_disable(args.disable_rules)
        except HasilaError as exc:
            problems.append(f"--disable-rules: {exc}")
    if args.explain and _format_of(args) == "csv":
        problems.append("--explain needs JSONL output (CSV has one row per incident)")
    return problems


def _output_problems(args: argparse.Namespace) -> list[str]:
    problems = []
    outputs = [o for o in (args.output, args.html, args.errors) if o]
    if len({os.path.abspath(o) for o in outputs}) < len(outputs):
        problems.append("-o, --html and --errors must be different files")
    return problems


def _format_of(args: argparse.Namespace) -> str:
    if args.format:
        return args.format
    return "csv" if args.output and args.output.lower().endswith(".csv") else "jsonl"


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="hasila-extract: %(message)s")
    problems = _usage_problems(args)
    date = None
    if args.date:
        try:
            date = dt.date.fromisoformat(args.date)
        except ValueError:
            problems.append(f"--date {args.date!r} is not a date (YYYY-MM-DD)")
    if problems:
        parser.print_usage(sys.stderr)
        for problem in problems:
            print(f"hasila-extract: error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    try:
        if args.ray is not None:
            return distributed.main(args, date)
        return _run(args, date)
    except HasilaError as exc:  # model not found, cannot resume, ...
        print(f"hasila-extract: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


def _run(args: argparse.Namespace, date: dt.date | None) -> int:
    from hasila.infer.writers import (CsvFormat, ErrorsFormat, JsonlFormat, OutputLocked, StreamOutput, WriteError,
                                      open_output, output_kind, progress_path_for, read_progress)

    fmt = _format_of(args)
    try:
        main_kind = output_kind(args.output) if args.output else "stream"
    except WriteError as exc:
        print(f"hasila-extract: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if args.resume and main_kind != "file":
        raise HasilaError(f"--resume needs -o FILE to be a regular file; {args.output or 'standard output'} is not")
    progress_path = progress_path_for(args.output) if main_kind == "file" else None
    progress = read_progress(progress_path) if args.resume else None
    if args.resume and progress is None:
        if os.path.exists(args.output):
            if not args.quiet:
                print(f"hasila-extract: {args.output} is already complete (no interrupted run to resume: "
                      f"{progress_path} does not exist); nothing to do. Run without --resume to redo it.", file=sys.stderr)
            return EXIT_OK
        if not args.quiet:
            print(f"hasila-extract: no interrupted run found at {progress_path}; starting from the beginning", file=sys.stderr)

    from hasila.infer.report_html import HtmlFormat

    main_format = CsvFormat(bom=args.csv_bom) if fmt == "csv" else JsonlFormat()
    try:
        outputs = [open_output(args.output, main_format) if args.output else StreamOutput(sys.stdout, main_format)]
        if args.html:
            outputs.append(open_output(args.html, HtmlFormat()))
        if args.errors:
            outputs.append(open_output(args.errors, ErrorsFormat()))
    except WriteError as exc:
        print(f"hasila-extract: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    locked = []
    try:
        for out in outputs:  # before the model loads: a second run on the same output stops at once
            out.lock()
            locked.append(out)
        return _extract(args, date, fmt, outputs, progress_path, progress)
    except OutputLocked as exc:
        print(f"hasila-extract: error: {exc}", file=sys.stderr)
        return EXIT_LOCKED
    except WriteError as exc:
        print(f"hasila-extract: error: {exc}", file=sys.stderr)
        if not args.output:  # stdout is broken (/dev/full): nothing more may go there at exit
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED
    finally:
        for out in locked:
            out.unlock()


def _extract(args: argparse.Namespace, date: dt.date | None, fmt: str, outputs: list, progress_path, progress) -> int:
    # Heavy imports only once the command line is known to be good.
    from hasila.infer.model import find_model, resolve_device
    from hasila.infer.onnx_runtime import load_classifier
    from hasila.infer.pipeline import Extractor, default_batch_size, default_chunk_size, default_workers
    from hasila.infer.writers import BatchWriter, WriteError

    batch_size = args.batch_size or default_batch_size(resolve_device(args.device))
    if progress is not None and progress["settings"].get("batch_size") != batch_size:
        batch_size = progress["settings"]["batch_size"]
        print(f"hasila-extract: resuming with the interrupted run's --batch-size {batch_size}", file=sys.stderr)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)

    classifier = load_classifier(find_model(args.model, allow_download=args.allow_download), runtime=args.runtime,
                                 device=args.device, dtype=args.dtype, batch_size=batch_size, stride=args.stride)
    chunk_size = default_chunk_size(batch_size)
    workers = default_workers(classifier.device) if args.workers is None else args.workers
    extractor = Extractor(classifier, batch_size=batch_size, chunk_size=chunk_size, workers=workers,
                          explain=args.explain, disable=args.disable_rules)

    settings = {
        "model": classifier.info.to_json(), "format": fmt, "csv_bom": args.csv_bom,
        "outputs": [str(o.path) for o in outputs if o.path is not None],
        "date": date.isoformat() if date else None, "max_chars": args.max_chars,
        "min_arabic_share": args.min_arabic_share, "dtype": args.dtype, "encoding": args.encoding,
        "runtime": classifier.runtime,
        "batch_size": batch_size, "chunk_size": chunk_size, "window": classifier.window, "stride": classifier.stride,
    }
    if args.explain:
        settings["explain"] = True
    if extractor.options["disable"]:
        settings["disable_rules"] = sorted(extractor.options["disable"])
    writer = BatchWriter(outputs, progress_path=progress_path, settings=settings, chunk_size=chunk_size)
    try:
        done = writer.start(progress)
    except WriteError:
        writer.close()
        raise
    if done and not args.quiet:
        print(f"hasila-extract: resuming after {done} documents", file=sys.stderr)

    reader = InputReader(max_chars=args.max_chars, min_arabic_share=args.min_arabic_share, default_date=date,
                         defer_text_checks=workers > 0, encoding=args.encoding, file_dates=args.file_dates,
                         sidecar=args.dates)
    pairs = extractor.extract_pairs(writer.skip_done(reader.read(args.inputs)))
    bar = None
    if sys.stderr.isatty() and not args.quiet:
        from tqdm import tqdm

        bar = tqdm(total=None, initial=done, unit="doc", file=sys.stderr, dynamic_ncols=True)
    first_errors: list[str] = []
    try:
        with extractor:  # stops the worker processes however the run ends
            for doc, record in pairs:
                writer.write(doc, record)
                if record["status"] == "error" and len(first_errors) < 5:
                    first_errors.append(record["error"]["message"])
                if bar is not None:
                    bar.update(1)
        writer.finish()
    except KeyboardInterrupt:
        writer.close()
        print(f"\nhasila-extract: interrupted after {writer.done} documents"
              + ("; rerun with --resume to continue from the last checkpoint" if progress_path else ""), file=sys.stderr)
        return EXIT_INTERRUPTED
    except (HasilaError, WriteError):
        writer.close()
        raise
    except BrokenPipeError:  # the reader of standard output went away (`| head`)
        writer.close()
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED
    except OSError as exc:
        writer.close()
        print(f"hasila-extract: error: writing failed: {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        if bar is not None:
            bar.close()
    if not args.quiet:
        _summary(writer, first_errors, args)
    counts = writer.counts
    if writer.done and counts["ok"] == 0:
        if not args.quiet:
            print(f"hasila-extract: every document failed (exit status {EXIT_ALL_FAILED})", file=sys.stderr)
        return EXIT_ALL_FAILED
    if args.strict and counts["error"]:
        if not args.quiet:
            print(f"hasila-extract: --strict: {counts['error']} documents got error records (exit status {EXIT_STRICT})",
                  file=sys.stderr)
        return EXIT_STRICT
    return EXIT_OK


def _summary(writer, first_errors: list[str], args: argparse.Namespace) -> None:
    c = writer.counts
    where = args.output or "standard output"
    print(f"hasila-extract: {writer.done} documents ({c['error']} with errors), {c['incidents']} incidents → {where}",
          file=sys.stderr)
    for message in first_errors:
        print(f"  error: {message}", file=sys.stderr)
    if c["error"] > len(first_errors):
        more = c["error"] - len(first_errors)
        hint = f" (all in {args.errors})" if args.errors else " (list them all with --errors FILE)"
        print(f"  ... and {more} more{hint}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
