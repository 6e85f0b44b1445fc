"""``hasila-annotate``: keep the stand-off gold store.

    hasila-annotate text DOC_ID                 print an article's text (to read and quote)
    hasila-annotate import FILE...              quote files -> store (all or nothing)
    hasila-annotate check                       validate the whole store, print statistics
    hasila-annotate export-quotes DOC_ID        a stored document back in quote form
    hasila-annotate ls-push --project N [--model DIR] [DOC_ID...]   store / corpus docs -> Label Studio tasks
    hasila-annotate ls-pull --project N [--out DIR]   finished Label Studio annotations -> store (or DIR)
    hasila-annotate agreement --second DIR      inter-annotator agreement: store vs a second store
    hasila-annotate select                      rerun the gold-set selection (annotations/selection.json)
    hasila-annotate stats [--readme]            per-split statistics (--readme: refresh annotations/README.md)

The store root is ``--store`` (default ``annotations/store``, or ``$HASILA_ANNOTATIONS/store``);
corpora come from ``--data`` (default ``$HASILA_DATA`` or ``../shared/data``).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from hasila.infer.types import HasilaError
from hasila.train.annotate.quotes import (
    document_from_quotes,
    dumps_quotes,
    quotes_from_document,
    read_quote_file,
)
from hasila.train.annotate.store import (
    BioStats,
    GoldDocument,
    StoreError,
    bio_with_stats,
    corpus_meta,
    corpus_resolver,
    document_path,
    load_document,
    load_store,
    record_json,
    source_for_doc_id,
    store_dir,
    write_documents,
)
from hasila.train.settings import data_dir


def _find_stored(root: Path, doc_id: str) -> Path:
    hits = sorted(root.glob(f"*/{doc_id}.json"))
    if not hits:
        raise StoreError(f"{doc_id}: not in the store {root}")
    return hits[0]


def cmd_text(args: argparse.Namespace) -> int:
    text = corpus_resolver(args.data)(source_for_doc_id(args.doc_id, args.data))
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    resolver = corpus_resolver(args.data)
    docs: list[GoldDocument] = []
    errors: list[str] = []
    for path in args.files:
        try:
            file_docs = []
            for payload in read_quote_file(path):
                doc_id = payload.get("doc_id")
                if not isinstance(doc_id, str):
                    raise StoreError("a document without a 'doc_id' string")
                source = payload.get("source") or source_for_doc_id(doc_id, args.data)
                meta = corpus_meta(args.data)(doc_id) if source.get("corpus") in ("saudinewsnet", "webnews") else {}
                file_docs.append(document_from_quotes(payload, resolver(source), source, meta))
            docs.extend(file_docs)
        except (HasilaError, OSError) as exc:
            errors.append(f"{path}: {exc}")
    if errors and args.keep_going:
        # Import what validates; the bad files are listed and left for the annotator to fix.
        print(f"skipped {len(errors)} file(s):\n" + "\n".join(errors), file=sys.stderr)
        errors = []
    if not errors:
        errors.extend(_replacement_conflicts(args.store, docs, args.replace))
    if errors:
        print("nothing written:\n" + "\n".join(errors), file=sys.stderr)
        return 1
    for doc, path in zip(docs, write_documents(docs, args.store)):
        print(f"{doc.doc_id}: {len(doc.spans)} spans, {len(doc.incidents)} incidents -> {path}")
    return 0


def _replacement_conflicts(root: Path, docs: list[GoldDocument], replace: bool) -> list[str]:
    """A document already stored with different content is only replaced with --replace."""
    out = []
    for doc in docs:
        path = document_path(root, doc.corpus, doc.doc_id)
        if path.exists() and not replace and path.read_text(encoding="utf-8") != record_json(doc):
            out.append(f"{doc.doc_id}: already in the store with other annotations ({path}); use --replace")
    return out


def cmd_check(args: argparse.Namespace) -> int:
    docs = load_store(args.store, corpus_resolver(args.data))
    by = Counter((d.corpus, d.status, d.kind) for d in docs)
    labels = Counter(e.label for d in docs for e in d.spans)
    bio = BioStats()
    for d in docs:
        bio.add(bio_with_stats(d)[1])
    print(f"{len(docs)} documents in {args.store}")
    for (corpus, status, kind), n in sorted(by.items()):
        print(f"  {corpus:14s} {status:6s} {kind:13s} {n}")
    print(f"spans: {sum(labels.values())}  " + "  ".join(f"{k} {labels[k]}" for k in sorted(labels)))
    print(f"incidents: {sum(len(d.incidents) for d in docs)}")
    roles = Counter(d.role_of(e) or "(none)" for d in docs for e in d.spans if e.label in ("KILLED", "WOUNDED"))
    print("figure roles: " + "  ".join(f"{k} {v}" for k, v in sorted(roles.items())))
    countries = Counter(str(d.meta.get("country")) for d in docs if d.corpus == "webnews")
    if countries:
        print("webnews countries: " + "  ".join(f"{k} {v}" for k, v in sorted(countries.items(), key=lambda kv: -kv[1])))
    print(f"BIO: {bio.snapped} of {bio.spans} spans cut a word (whole word tagged), {bio.dropped} dropped (word already tagged)")
    return 0


def cmd_split(args: argparse.Namespace) -> int:
    from collections import Counter as _C

    from hasila.train.annotate.splits import build_splits, write_splits
    from hasila.train.gold import _read_selection
    from hasila.train.settings import annotations_dir

    docs = [d for d in load_store(args.store, corpus_resolver(args.data)) if d.status == "gold"]
    import json as _json

    out = args.out or (annotations_dir() / "splits.json")
    previous = None if args.fresh or not out.is_file() else _json.loads(out.read_text(encoding="utf-8"))
    content = build_splits(docs, _read_selection(annotations_dir() / "selection.json"), previous)
    write_splits(out, content)
    table = content["documents"]
    by = _C((d.corpus, table.get(d.doc_id, "?"), d.kind) for d in docs)
    for key, n in sorted(by.items()):
        print("  ".join(key), n)
    print(f"moved from dev_2015 to train: {len(content['moved_from_dev_2015'])}; written {out}")
    return 0


def cmd_agreement(args: argparse.Namespace) -> int:
    import json

    from hasila.train.annotate.agreement import compare

    resolver = corpus_resolver(args.data)
    second = {d.doc_id: d for d in load_store(args.second, resolver)}
    first = {d.doc_id: d for d in load_store(args.store, resolver)}
    missing = sorted(set(second) - set(first))
    if missing:  # not annotated (or not valid) in the first store yet: say so, compare the rest
        print(f"note: {len(missing)} documents of {args.second} are not in {args.store}: {', '.join(missing)}", file=sys.stderr)
    common = sorted(set(second) & set(first))
    if not common:
        raise StoreError(f"no document is in both {args.store} and {args.second}")
    result = compare((first[k], second[k]) for k in common).to_json()
    text = json.dumps(result, ensure_ascii=False, indent=1)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    import json

    from hasila.train.annotate.stats import markdown, store_stats
    from hasila.train.gold import gold_documents
    from hasila.train.settings import annotations_dir

    by_split: dict[str, list] = {}
    for name in ("train", "dev", "test"):
        docs = gold_documents(name, store_root=args.store)
        for corpus, short in (("saudinewsnet", "snn"), ("webnews", "wn")):
            by_split[f"{short} {name}"] = [d for d in docs if d.corpus == corpus]
    stats = store_stats(by_split)
    table = markdown(stats)
    print(json.dumps(stats, ensure_ascii=False, indent=1))
    print(table)
    if args.readme:
        readme = annotations_dir() / "README.md"
        text = readme.read_text(encoding="utf-8")
        start, end = "<!-- stats -->", "<!-- /stats -->"
        if start not in text or end not in text:
            raise StoreError(f"{readme} has no {start} … {end} markers to put the table between")
        head, rest = text.split(start, 1)
        _, tail = rest.split(end, 1)
        tmp = readme.with_suffix(".md.tmp")
        tmp.write_text(head + start + "\n" + table + end + tail, encoding="utf-8")
        tmp.replace(readme)
    return 0


def cmd_select(args: argparse.Namespace) -> int:
    from hasila.train.annotate.select import main as select_main

    return select_main(["--data", str(args.data)] + (["--out", str(args.out)] if args.out else []))


def cmd_export_quotes(args: argparse.Namespace) -> int:
    doc = load_document(_find_stored(args.store, args.doc_id), corpus_resolver(args.data))
    print(dumps_quotes(quotes_from_document(doc)))
    return 0


def cmd_ls_push(args: argparse.Namespace) -> int:
    from hasila.train.annotate import label_studio as ls

    # the model first: a wrong --model is an error before anything is sent
    predict = ls.model_predictor(args.model, device=args.device) if args.model is not None else None
    client = ls.connect(args.url, args.api_key)
    resolver = corpus_resolver(args.data)
    if args.doc_ids:
        items: list[GoldDocument | str] = []
        for doc_id in args.doc_ids:
            hits = sorted(args.store.glob(f"*/{doc_id}.json"))
            items.append(load_document(hits[0], resolver) if hits else doc_id)
    else:
        items = list(load_store(args.store, resolver))
    project = args.project if args.project is not None else ls.create_project(client, args.title)
    errors: list[str] = []
    kw = {} if predict is None else {"predict": predict, "model_version": predict.model_version}  # type: ignore[attr-defined]
    pushed = ls.push(client, project, items, resolver=resolver, errors=errors, **kw)
    for err in errors:
        print(f"hasila-annotate: {err}", file=sys.stderr)
    note = ""
    if predict is not None:
        note = f", {len(pushed) - len(errors)} with the model's pre-annotation ({predict.model_version})"  # type: ignore[attr-defined]
    print(f"project {project}: {len(pushed)} task(s) created{note}")
    return 0


def cmd_ls_pull(args: argparse.Namespace) -> int:
    from hasila.train.annotate import label_studio as ls

    client = ls.connect(args.url, args.api_key)
    report = ls.pull(
        client, args.project, resolver=corpus_resolver(args.data), store_root=args.store, meta_of=corpus_meta(args.data),
        out_root=args.out,
    )
    for note in report.fixes:
        print(f"fixed: {note}")
    where = args.out if args.out is not None else args.store
    print(
        f"project {args.project}: {len(report.written)} written to {where}, {len(report.unchanged)} unchanged, "
        f"{len(report.skipped)} task(s) without a submitted annotation"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hasila-annotate", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", type=Path, default=None, help="store root (default: annotations/store)")
    parser.add_argument("--data", type=Path, default=None, help="corpora folder (default: $HASILA_DATA or ../shared/data)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("text", help="print an article's text")
    p.add_argument("doc_id")
    p.set_defaults(func=cmd_text)

    p = sub.add_parser("import", help="import quote files into the store (nothing is written if any fails)")
    p.add_argument("files", nargs="+", type=Path)
    p.add_argument("--replace", action="store_true", help="replace stored documents whose annotations differ")
    p.add_argument("--keep-going", action="store_true", help="import the files that validate, list the others (exit 0)")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("check", help="validate the whole store and print statistics")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("split", help="write annotations/splits.json: webnews by event and country, dev rebalanced")
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--fresh", action="store_true", help="deal every group anew (ignore the splits written before)")
    p.set_defaults(func=cmd_split)

    p = sub.add_parser("agreement", help="inter-annotator agreement between the store and a second store")
    p.add_argument("--second", type=Path, required=True, help="store root of the independent second annotations")
    p.add_argument("--out", type=Path, default=None, help="also write the JSON report here")
    p.set_defaults(func=cmd_agreement)

    p = sub.add_parser("stats", help="per-split statistics of the gold store")
    p.add_argument("--readme", action="store_true", help="write the table into annotations/README.md")
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser("select", help="rerun the reproducible gold-set selection")
    p.add_argument("--out", type=Path, default=None, help="default: annotations/selection.json")
    p.set_defaults(func=cmd_select)

    p = sub.add_parser("export-quotes", help="print a stored document in quote form")
    p.add_argument("doc_id")
    p.set_defaults(func=cmd_export_quotes)

    for name, func, help_ in (
        ("ls-push", cmd_ls_push, "create Label Studio tasks from the store or from corpus doc ids"),
        ("ls-pull", cmd_ls_pull, "pull submitted Label Studio annotations into the store"),
    ):
        p = sub.add_parser(name, help=help_)
        p.add_argument("--url", default=None, help="Label Studio URL (default $LABEL_STUDIO_URL)")
        p.add_argument("--api-key", default=None, help="API token (default $LABEL_STUDIO_API_KEY)")
        p.add_argument("--project", type=int, default=None, required=name == "ls-pull")
        # --store / --data also after the command (the same as before it)
        p.add_argument("--store", dest="sub_store", type=Path, default=None,
                       help="store root (read; ls-pull writes there unless --out)" if name == "ls-pull" else "store root")
        p.add_argument("--data", dest="sub_data", type=Path, default=None, help="corpora folder")
        if name == "ls-push":
            p.add_argument("--title", default="Hasila", help="title of a new project when --project is not given")
            p.add_argument("--model", type=Path, default=None,
                           help="model folder: its spans, incidents and figure roles (structure heads) go in as predictions")
            p.add_argument("--device", default="cpu", help="device for --model (cpu, cuda, auto; default cpu)")
            p.add_argument("doc_ids", nargs="*", help="documents to push (default: the whole store)")
        else:
            p.add_argument("--out", type=Path, default=None,
                           help="write every pulled document under this folder (<corpus>/<doc_id>.json) instead of the store")
        p.set_defaults(func=func)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.store = getattr(args, "sub_store", None) or args.store or store_dir()
    args.data = getattr(args, "sub_data", None) or args.data or data_dir()
    try:
        return int(args.func(args))
    except (HasilaError, OSError) as exc:
        print(f"hasila-annotate: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
