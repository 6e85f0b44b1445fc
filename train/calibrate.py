"""``hasila-train calibrate``: the int8 calibration of a tagger, written into its folder.

For every ``nn.Linear`` of the encoder, the largest |input| of each channel over the real tokens
of gold train windows — the same windows, batches and padding the runtime builds
(``runtime_parity.padded_batches``). The int8 recipe (``hasila.infer.int8``) reads it to choose
the fp32 outlier channels and the smoothing of each layer. Train documents only: dev and test stay
for the parity gates.

    hasila-train calibrate --model models/hasila-ner [--split train] [--docs 200]
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
import time
from pathlib import Path
from typing import Sequence

import numpy as np

from hasila.infer.int8 import CALIBRATION_FILE, Calibration

log = logging.getLogger("hasila.calibrate")


def input_maxima(classifier, texts: Sequence[str], batch_size: int = 16) -> tuple[dict[str, np.ndarray], int]:
    """Per-channel max |input| of each linear layer of ``classifier.model`` (PyTorch) over the
    real tokens of ``texts``' windows; and the number of real tokens seen."""
    import torch

    from hasila.train.runtime_parity import padded_batches

    model = classifier.model
    maxima: dict[str, np.ndarray] = {}
    current: dict[str, torch.Tensor] = {}

    def hook(name: str):
        def pre(_module, args):
            x = args[0].detach().float().abs()
            real = current["mask"]
            if x.dim() == 3 and x.shape[:2] == real.shape:
                x = x[real]
            v = x.reshape(-1, x.shape[-1]).amax(0).cpu().numpy()
            maxima[name] = v if name not in maxima else np.maximum(maxima[name], v)
        return pre

    handles = [m.register_forward_pre_hook(hook(n)) for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)]
    tokens = 0
    try:
        with torch.inference_mode():
            for ids, mask in padded_batches(classifier, texts, batch_size):
                current["mask"] = torch.from_numpy(mask).bool().to(classifier.device)
                model(input_ids=torch.from_numpy(ids).to(classifier.device),
                      attention_mask=torch.from_numpy(mask).to(classifier.device))
                tokens += int(mask.sum())
    finally:
        for h in handles:
            h.remove()
    return maxima, tokens


def calibrate(model_dir: str | Path, texts: Sequence[str], *, data: str = "", seed: int | None = None) -> Calibration:
    """The calibration of ``model_dir``'s tagger on ``texts`` (PyTorch fp32, CPU)."""
    from hasila.infer.model import TokenClassifier

    clf = TokenClassifier.load(str(model_dir), device="cpu")
    maxima, tokens = input_maxima(clf, texts)
    if not tokens or not maxima:
        raise ValueError(f"nothing to calibrate {model_dir} on: {len(texts)} texts gave no tokens")
    meta = {"seed": seed} if seed is not None else {}
    return Calibration(clf.info.sha256 or "", maxima, data=data, documents=len(texts), tokens=tokens, meta=meta)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="hasila-train calibrate", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="the tagger's folder; int8_calibration.json is written into it")
    ap.add_argument("--split", default="train", help="gold split to calibrate on (default train; never dev or test, which gate it)")
    ap.add_argument("--docs", type=int, default=200, help="documents drawn from it (default 200; 0 = all)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    logging.basicConfig(level="INFO", format="%(asctime)s %(name)s %(levelname)s %(message)s")
    from hasila.infer.types import HasilaError
    from hasila.train.gold import gold_documents

    if not (Path(args.model) / "config.json").is_file():
        print(f"hasila-train calibrate: {args.model} is not a model folder (no config.json)", file=sys.stderr)
        return 2
    if args.split in ("dev", "test"):
        print(f"hasila-train calibrate: calibrating on {args.split} would leak into the parity gates; use train",
              file=sys.stderr)
        return 2
    try:
        docs = gold_documents(args.split, skip_unsplit=True)
        texts = [d.text for d in docs]
        if args.docs and len(texts) > args.docs:
            texts = random.Random(args.seed).sample(texts, args.docs)
        t0 = time.perf_counter()
        cal = calibrate(args.model, texts, data=f"gold-{args.split}", seed=args.seed)
        path = Path(args.model) / CALIBRATION_FILE
        cal.save(path)
    except (HasilaError, OSError, ValueError) as err:
        print(f"hasila-train calibrate: {err}", file=sys.stderr)
        return 2
    print(f"{path}: {len(cal.inputs)} linear layers, {cal.documents} documents, {cal.tokens:,} tokens "
          f"({time.perf_counter() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
