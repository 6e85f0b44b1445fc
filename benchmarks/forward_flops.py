"""How close the model's forward pass runs to the CPU's arithmetic limit.

Times one forward pass of the shipped model (fp32, PyTorch eager) over batches of the pipeline's
CPU shape (16 windows of 128 sub-words) and of 8 × 512, median of six, and divides the
multiply-adds it performs (linear layers, attention scores and mixing, the tag head) by the time.
The answer to "can work around the model make CPU extraction ×3 faster?": no — the forward pass
is nearly all of the time and already close to the cores' peak.

    python benchmarks/forward_flops.py [--model models/hasila-ner]
"""

from __future__ import annotations

import argparse
import time

import torch
from transformers import AutoModelForTokenClassification


def forward_flops(config, batch: int, length: int) -> int:
    """Floating-point operations of one forward pass (2 per multiply-add)."""
    h, i, layers = config.hidden_size, config.intermediate_size, config.num_hidden_layers
    per_token = layers * (2 * (4 * h * h + 2 * h * i) + 2 * 2 * length * h) + 2 * h * config.num_labels
    return per_token * batch * length


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="models/hasila-ner")
    args = ap.parse_args(argv)
    model = AutoModelForTokenClassification.from_pretrained(args.model, torch_dtype=torch.float32).eval()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    for batch, length in ((16, 128), (8, 512)):
        ids = torch.randint(5, 1000, (batch, length))
        mask = torch.ones(batch, length, dtype=torch.long)
        times = []
        with torch.inference_mode():
            model(input_ids=ids, attention_mask=mask)  # warm-up
            for _ in range(6):
                t = time.perf_counter()
                model(input_ids=ids, attention_mask=mask)
                times.append(time.perf_counter() - t)
        dt = sorted(times)[len(times) // 2]
        flops = forward_flops(model.config, batch, length)
        print(f"{batch} x {length}: {dt * 1000:.0f} ms, {flops / 1e9:.1f} GFLOP, {flops / dt / 1e9:.0f} GFLOP/s, "
              f"{batch * length / dt:.0f} tokens/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
