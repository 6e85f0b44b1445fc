"""``hasila-train``: fine-tune, build the base encoder, write a model card.

    hasila-train run --config train/configs/hasila.json [--set key=value ...]
                     [--base-model ID_OR_PATH] [--output-dir DIR] [--resume]
    hasila-train run --resume --output-dir DIR        # continue a crashed run with its saved config
    hasila-train card --model DIR --metrics metrics.json
    hasila-train export --model runs/hasila-ner-cpu --out models/hasila-ner   # fp16 package to ship
    hasila-train fix-tokenizer models/hasila-ner     # tokenizer_config.json that transformers 4.x loads
    hasila-train base ...                             # see hasila-train base --help

Several GPUs: ``accelerate launch --multi_gpu --num_processes N -m hasila.train.cli run --config ...``
(or ``torchrun --nproc_per_node N -m hasila.train.cli run ...``; on CPUs add ``ACCELERATE_USE_CPU=true``).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from hasila.infer.types import HasilaError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hasila-train", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="fine-tune a token classifier")
    run.add_argument("--config", type=Path, help="JSON config (see train/configs/); optional with --resume")
    run.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                     help="override a config key (dotted keys, JSON values), repeatable")
    run.add_argument("--base-model", help="Hugging Face model id or local path (overrides base_model)")
    run.add_argument("--output-dir", help="where checkpoints and the model go (overrides output_dir)")
    run.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in output_dir")
    run.add_argument("--log-level", default="INFO")

    card = sub.add_parser("card", help="write README.md (model card) for a model folder from a metrics JSON")
    card.add_argument("--model", type=Path, required=True)
    card.add_argument("--metrics", type=Path, required=True, help="written by hasila-evaluate")
    card.add_argument("--out", type=Path, default=None, help="default: MODEL/README.md")
    card.add_argument("--name", default=None, help="model name in the card (default: the folder name)")

    abl = sub.add_parser("ablation", help="put one run's dev results into the ablation table of a metrics JSON")
    abl.add_argument("--metrics", type=Path, required=True, help="the metrics JSON the card is made from (changed in place)")
    abl.add_argument("--run", required=True, help="row name (a row with this name is replaced)")
    abl.add_argument("--change", required=True, help="what this run changed")
    abl.add_argument("--from", dest="source", type=Path, required=True, help="hasila-evaluate output of the run")
    abl.add_argument("--data", default="gold-dev")
    abl.add_argument("--note", help="the table's note (settings shared by the runs)")

    bench = sub.add_parser("benchmark", help="put a benchmark model's test result into a metrics JSON")
    bench.add_argument("--metrics", type=Path, required=True)
    bench.add_argument("--model", required=True, help="row name: the benchmark model")
    bench.add_argument("--what", required=True, help="what the model is and how it was trained")
    bench.add_argument("--from", dest="source", type=Path, required=True, help="hasila-evaluate output of that model")
    bench.add_argument("--data", default="anercorp-camel-test")

    export = sub.add_parser("export", help="package a trained model in fp16 for shipping (≤ 40 MiB)")
    export.add_argument("--model", type=Path, required=True)
    export.add_argument("--out", type=Path, required=True)
    export.add_argument("--dtype", default="float16", choices=("float16", "bfloat16", "float32"))

    fix = sub.add_parser("fix-tokenizer", help="rewrite MODEL_DIR/tokenizer_config.json so that transformers 4.x loads it "
                         "(tokenizer_class PreTrainedTokenizerFast; tokenizer.json untouched)")
    fix.add_argument("model_dir", type=Path, metavar="MODEL_DIR")

    sub.add_parser("base", help="build / trim / adapt the base encoder (hasila-train base --help)", add_help=False)
    sub.add_parser("heads", help="train the structure heads into a tagger's folder (hasila-train heads --help)", add_help=False)
    sub.add_parser("calibrate", help="the int8 calibration of a tagger, into its folder (hasila-train calibrate --help)",
                   add_help=False)
    return parser


def _run(args: argparse.Namespace) -> int:
    from hasila.train.config import CONFIG_FILENAME, ConfigError, load_config
    from hasila.train.trainer import train

    overrides = list(args.overrides)
    if args.base_model:
        overrides.append(f"base_model={args.base_model}")
    if args.output_dir:
        overrides.append(f"output_dir={args.output_dir}")
    config_path = args.config
    if config_path is None:
        if not (args.resume and args.output_dir):
            raise ConfigError("--config is required (or --resume with --output-dir of a run that saved its config)")
        config_path = Path(args.output_dir) / CONFIG_FILENAME
    cfg = load_config(config_path, overrides)
    state = train(cfg, resume=args.resume)
    if int(os.environ.get("RANK", "0")) != 0:
        return 0  # under torchrun / accelerate launch one process reports
    best = "" if state.best_metric is None else f", best dev micro F1 {state.best_metric:.4f} at step {state.best_step}"
    print(f"trained {state.global_step} steps{best}; model in {cfg.output_dir}")
    return 0


def _card(args: argparse.Namespace) -> int:
    from hasila.train.model_card import write_model_card

    path = write_model_card(args.model, args.metrics, out=args.out, name=args.name)
    print(f"model card written to {path}")
    return 0


def _table_row(args: argparse.Namespace) -> int:
    import json

    from hasila.train.model_card import ablation_row, add_table_row, benchmark_row

    try:
        source = json.loads(args.source.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise HasilaError(f"{args.source}: not a JSON metrics file ({err})") from None
    if args.command == "ablation":
        add_table_row(args.metrics, "ablations", ablation_row(args.run, args.change, source, args.data), "run", args.note)
    else:
        add_table_row(args.metrics, "benchmark_models", benchmark_row(args.model, args.what, source, args.data), "model")
    print(f"{args.metrics}: {args.command} row written")
    return 0


def quiet_libraries() -> None:
    """Keep Accelerate's per-file checkpoint messages and progress bars out of the log."""
    logging.getLogger("accelerate").setLevel(logging.WARNING)
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except ImportError:  # pragma: no cover
        pass
    try:
        import datasets

        datasets.disable_progress_bars()
    except ImportError:  # pragma: no cover
        pass


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "base":
        from hasila.train.base.cli import main as base_main

        return base_main(argv[1:])
    if argv and argv[0] == "heads":
        from hasila.train.heads import main as heads_main

        return heads_main(argv[1:])
    if argv and argv[0] == "calibrate":
        from hasila.train.calibrate import main as calibrate_main

        return calibrate_main(argv[1:])
    args = _parser().parse_args(argv)
    logging.basicConfig(level=getattr(args, "log_level", "INFO"), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    quiet_libraries()
    try:
        if args.command == "run":
            return _run(args)
        if args.command == "card":
            return _card(args)
        if args.command in ("ablation", "benchmark"):
            return _table_row(args)
        if args.command == "export":
            from hasila.train.export import export_model, folder_size

            path = export_model(args.model, args.out, args.dtype)
            print(f"exported to {path} ({folder_size(path) / 2**20:.1f} MiB)")
            return 0
        if args.command == "fix-tokenizer":
            from hasila.train.hf_compat import fix_tokenizer_config

            res = fix_tokenizer_config(args.model_dir)
            print(f"{res['path']}: tokenizer_class {res['before']!r} -> {res['after']!r}"
                  + ("" if res["changed"] else " (already so; nothing written)"))
            return 0
    except (HasilaError, FileNotFoundError) as err:
        print(f"hasila-train {args.command}: {err}", file=sys.stderr)
        return 2
    return 2


if __name__ == "__main__":
    sys.exit(main())
