"""The token classifier on ONNX Runtime (CPU): fp32, or int8 with the sensitive layers kept fp32.

The same :class:`~hasila.infer.model.TokenClassifier` (same words, windows, batches, word
scores; the structure heads' hidden states too), with the forward pass run by ONNX Runtime on a
graph derived from the checkpoint. The derived graphs are built on first use into a cache
(``$HASILA_CACHE/onnx``, else ``~/.cache/hasila/onnx``), one file per (weights sha256, variant,
onnxruntime version); nothing is written into the model folder. ``python -m
hasila.infer.onnx_runtime MODEL`` builds them ahead of time.

**The export** (``fp32``): the encoder with *eager* attention, traced on a padded batch, with
dynamic batch and length; outputs ``logits`` and ``last_hidden_state``. The divergence of an
earlier attempt (logits off by up to 2.8) came from the attention mask: the SDPA attention path
of ``transformers`` builds its mask with data-dependent shortcuts (no mask at all when every
token is real), and a trace on an unpadded example bakes "no mask" into the graph, so padded
windows — every batch but the longest row — attend to their padding. Eager attention and a
padded example keep the mask in the graph (``hasila.train.runtime_parity.logit_gap`` measures it on real windows).

**int8**: ONNX Runtime's graph fusions (attention, layer norm, GELU) on the fp32 graph, then
dynamic quantization of the MatMul weights per output channel (int8; activations uint8 per
tensor, computed per batch). Kept in fp32: the nodes :data:`FP32_NODES` names. Measured alone
(``benchmarks/onnx_parity.py --sensitivity``) the feed-forward layers hurt most, then the
embeddings and the first layers; no choice tried passes the parity gates yet (README, "Speed"),
so int8 is opt-in (``--runtime int8``) and not the CPU default.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from hasila.infer.model import ModelError, ModelInfo, TokenClassifier, check_bio_labels, weights_sha256

log = logging.getLogger("hasila.onnx")

RUNTIMES = ("auto", "torch", "onnx", "int8")
VARIANTS = ("fp32", "int8")
OPSET = 17
# Derived-graph recipe version: bump when the export or quantization recipe changes, so that
# cached graphs of an older recipe are not reused.
RECIPE = 1
# int8: MatMul nodes kept in fp32 (name patterns, matched as substrings of the fused graph's
# node names); the measured choice, see the module docstring and the README ("Speed").
FP32_NODES: tuple[str, ...] = ("EmbedLayerNormalization", "classifier") + tuple(
    f"layer.{k}/output/dense" for k in range(48))  # embeddings, classifier, every feed-forward output


class RuntimeUnavailable(ModelError):
    """The asked-for runtime cannot run here (onnxruntime missing, CUDA asked for with ONNX, ...)."""


def cache_dir() -> Path:
    """``$HASILA_ONNX_CACHE`` if set, else ``$HASILA_CACHE/onnx``, else ``~/.cache/hasila/onnx``."""
    own = os.environ.get("HASILA_ONNX_CACHE")
    if own:
        return Path(own)
    root = os.environ.get("HASILA_CACHE")
    return (Path(root) if root else Path.home() / ".cache" / "hasila") / "onnx"


def onnxruntime_available() -> bool:
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def resolve_runtime(runtime: str | None, device: str) -> str:
    """The runtime to use: ``auto`` is fp32 ONNX on CPU when onnxruntime is installed, else
    PyTorch. Not int8: it does not pass the parity gates yet (README, "Speed")."""
    runtime = runtime or "auto"
    if runtime not in RUNTIMES:
        raise ModelError(f"unknown runtime {runtime!r}; use one of {', '.join(RUNTIMES)}")
    on_cpu = str(device) == "cpu"
    if runtime == "auto":
        return "onnx" if on_cpu and onnxruntime_available() else "torch"
    if runtime in ("onnx", "int8"):
        if not on_cpu:
            raise RuntimeUnavailable(f"--runtime {runtime} runs on the CPU only (device {device!r}); "
                                     "use --runtime torch on a GPU")
        if not onnxruntime_available():
            raise RuntimeUnavailable(f"--runtime {runtime} needs the onnxruntime package "
                                     "(pip install onnxruntime onnx), or use --runtime torch")
    return runtime


def load_classifier(path_or_id: str | os.PathLike, *, runtime: str | None = "auto", device: str | None = "auto",
                    dtype: Any = None, batch_size: int = 16, stride: int | None = None,
                    max_length: int | None = None, threads: int | None = None) -> TokenClassifier:
    """A token classifier on the asked-for runtime (``auto``, ``torch``, ``onnx`` or ``int8``)."""
    from hasila.infer.model import resolve_device

    dev = resolve_device(device)
    chosen = resolve_runtime(runtime, dev)
    if chosen == "torch":
        return TokenClassifier.load(path_or_id, device=dev, dtype=dtype, batch_size=batch_size, stride=stride,
                                    max_length=max_length)
    if dtype not in (None, "float32", "fp32"):
        raise ModelError(f"--dtype {dtype} is for the torch runtime; ONNX runs fp32 or int8 (--runtime {chosen})")
    return OnnxTokenClassifier.load(path_or_id, variant="int8" if chosen == "int8" else "fp32", batch_size=batch_size,
                                    stride=stride, max_length=max_length, threads=threads)


# -- building the derived graphs -------------------------------------------------------------

def _ort_version() -> str:
    import onnxruntime

    return onnxruntime.__version__


def derived_path(model_dir: Path, variant: str, sha: str | None = None) -> Path:
    sha = sha or weights_sha256(model_dir)
    if sha is None:
        raise ModelError(f"{model_dir}: no weight files to derive an ONNX graph from")
    return cache_dir() / f"{sha[:20]}-r{RECIPE}-{variant}-ort{_ort_version()}.onnx"


def _atomic_save(write, final: Path) -> None:
    """Writes through ``write(tmp_path)`` then renames: a concurrent or interrupted build never
    leaves a half-written graph under the final name."""
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=final.name + ".", suffix=".tmp", dir=final.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o644)
        os.replace(tmp, final)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def export_fp32(model_dir: Path, out: Path) -> None:
    """The checkpoint as an fp32 ONNX graph: inputs ``input_ids``, ``attention_mask`` (int64,
    [batch, length]); outputs ``logits`` [batch, length, tags] and ``last_hidden_state``."""
    import warnings

    import torch
    from transformers import AutoModelForTokenClassification
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    model = AutoModelForTokenClassification.from_pretrained(str(model_dir), dtype=torch.float32,
                                                            attn_implementation="eager")
    model.eval()

    class Encoder(torch.nn.Module):
        def __init__(self, m: Any) -> None:
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask):
            o = self.m(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True)
            return o.logits, o.hidden_states[-1]

    # A padded example: row 1 is shorter, so the mask is real in the trace.
    ids = torch.full((2, 12), int(model.config.pad_token_id or 0), dtype=torch.long)
    ids[:, :12] = torch.arange(5, 17)
    mask = torch.ones((2, 12), dtype=torch.long)
    mask[1, 7:] = 0

    def write(tmp: Path) -> None:
        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                Encoder(model), (ids, mask), str(tmp), input_names=["input_ids", "attention_mask"],
                output_names=["logits", "last_hidden_state"], opset_version=OPSET, dynamo=False,
                dynamic_axes={"input_ids": {0: "batch", 1: "length"}, "attention_mask": {0: "batch", 1: "length"},
                              "logits": {0: "batch", 1: "length"}, "last_hidden_state": {0: "batch", 1: "length"}},
            )

    _atomic_save(write, out)


def _fuse(fp32: Path, out: Path, num_heads: int, hidden: int) -> None:
    """ONNX Runtime's transformer fusions (attention, skip layer norm, bias GELU), CPU kernels only."""
    from onnxruntime.transformers.optimizer import optimize_model

    opt = optimize_model(str(fp32), model_type="bert", num_heads=num_heads, hidden_size=hidden, opt_level=1,
                         use_gpu=False)
    _atomic_save(lambda tmp: opt.save_model_to_file(str(tmp)), out)


def matmul_nodes(path: Path) -> list[str]:
    import onnx

    graph = onnx.load(str(path), load_external_data=False).graph
    return [n.name for n in graph.node if n.op_type in ("MatMul", "Attention", "Gemm", "EmbedLayerNormalization")]


def quantize_int8(fused: Path, out: Path, keep_fp32: Sequence[str] = FP32_NODES) -> list[str]:
    """Dynamic int8 (per-channel weights) of a fused graph, nodes matching ``keep_fp32`` left
    fp32; returns the names of the nodes left fp32."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    names = matmul_nodes(fused)
    excluded = [n for n in names if any(p in n for p in keep_fp32)]

    def write(tmp: Path) -> None:
        import logging as _logging

        quiet = _logging.getLogger().level
        _logging.getLogger().setLevel(_logging.ERROR)  # the quantizer logs every node at INFO
        try:
            quantize_dynamic(str(fused), str(tmp), per_channel=True, weight_type=QuantType.QInt8,
                             nodes_to_exclude=excluded, extra_options={"MatMulConstBOnly": True, "DefaultTensorType": onnx.TensorProto.FLOAT})
        finally:
            _logging.getLogger().setLevel(quiet)

    _atomic_save(write, out)
    return excluded


def build(model_dir: str | os.PathLike, variant: str = "int8", *, keep_fp32: Sequence[str] | None = None,
          force: bool = False) -> Path:
    """The derived graph of a local checkpoint (built into the cache if not there yet)."""
    if variant not in VARIANTS:
        raise ModelError(f"unknown ONNX variant {variant!r}; use one of {', '.join(VARIANTS)}")
    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise ModelError(f"the ONNX runtime needs a local model folder, not {str(model_dir)!r}")
    sha = weights_sha256(model_dir)
    fp32 = derived_path(model_dir, "fp32", sha)
    if force or not fp32.exists():
        t0 = time.perf_counter()
        export_fp32(model_dir, fp32)
        log.info("exported %s to %s in %.1f s", model_dir, fp32, time.perf_counter() - t0)
    if variant == "fp32":
        return fp32
    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    keep = FP32_NODES if keep_fp32 is None else tuple(keep_fp32)
    tag = "-keep" + hashlib.sha256("\n".join(keep).encode()).hexdigest()[:8]  # the fp32 choice is part of the name
    out = derived_path(model_dir, "int8" + tag, sha)
    if force or not out.exists():
        t0 = time.perf_counter()
        fused = derived_path(model_dir, "fused", sha)
        if force or not fused.exists():
            _fuse(fp32, fused, int(config["num_attention_heads"]), int(config["hidden_size"]))
        quantize_int8(fused, out, keep)
        log.info("quantized %s to %s in %.1f s", model_dir, out, time.perf_counter() - t0)
    return out


# -- running ---------------------------------------------------------------------------------

class _Config:
    """What TokenClassifier reads off ``model.config``."""

    def __init__(self, d: dict[str, Any]) -> None:
        self.__dict__.update(d)


class _OnnxModel:
    def __init__(self, config: dict[str, Any]) -> None:
        self.config = _Config(config)


def make_session(path: Path, threads: int | None = None) -> Any:
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if threads:
        so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    try:
        return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    except Exception as exc:  # a damaged cache file: say where it is
        raise ModelError(f"ONNX Runtime cannot load {path} ({exc}); delete it to have it built again") from exc


class OnnxTokenClassifier(TokenClassifier):
    """:class:`TokenClassifier` whose forward passes run on ONNX Runtime (CPU)."""

    def __init__(self, session: Any, tokenizer: Any, config: dict[str, Any], *, info: ModelInfo, variant: str,
                 graph: Path, max_length: int | None = None, stride: int | None = None, batch_size: int = 16) -> None:
        super().__init__(_OnnxModel(config), tokenizer, info=info, device="cpu", max_length=max_length,
                         stride=stride, batch_size=batch_size)
        self.session = session
        self.variant = variant
        self.graph = graph
        self.runtime = "onnx" if variant == "fp32" else "int8"

    @classmethod
    def load(cls, path_or_id: str | os.PathLike, device: str | None = "cpu", dtype: Any = None, *,
             batch_size: int = 16, stride: int | None = None, max_length: int | None = None,
             variant: str = "int8", threads: int | None = None, keep_fp32: Sequence[str] | None = None
             ) -> "OnnxTokenClassifier":
        from transformers import AutoTokenizer

        where = Path(path_or_id)
        if not where.is_dir():
            raise ModelError(f"the ONNX runtime needs a local model folder, not {str(path_or_id)!r} "
                             "(download the checkpoint first, or use --runtime torch)")
        try:
            config = json.loads((where / "config.json").read_text(encoding="utf-8"))
            tokenizer = AutoTokenizer.from_pretrained(str(where))
        except (OSError, ValueError) as exc:
            raise ModelError(f"cannot load a token-classification model from {str(where)!r}: {exc}") from exc
        tags = check_bio_labels({int(k): v for k, v in config.get("id2label", {}).items()})
        graph = build(where, variant, keep_fp32=keep_fp32)
        if threads is None:
            try:
                import torch

                threads = torch.get_num_threads()  # follows --threads / OMP_NUM_THREADS like the torch path
            except ImportError:
                threads = None
        own = config.get("hasila_inference") or {}
        if not isinstance(own, dict):
            raise ModelError(f"{where}: config.json's hasila_inference must be an object like "
                             f'{{"max_length": 128, "stride": 32}}, not {own!r}')
        info = ModelInfo(name=where.name, sha256=weights_sha256(where), labels=tags)
        clf = cls(make_session(graph, threads), tokenizer, config, info=info, variant=variant, graph=graph,
                  max_length=max_length or own.get("max_length"),
                  stride=stride if stride is not None else own.get("stride"), batch_size=batch_size)
        clf.path = str(where)
        return clf

    def logits(self, input_ids: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        names = ["logits", "last_hidden_state"] if self.with_vectors else ["logits"]
        out = self.session.run(names, {"input_ids": input_ids, "attention_mask": mask})
        return out[0], (out[1] if self.with_vectors else None)

    def _run_windows(self, windows: Sequence[np.ndarray], batch_size: int
                     ) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray] | None]:
        order = sorted(range(len(windows)), key=lambda j: (-len(windows[j]), j))
        tag_ids: list[np.ndarray] = [None] * len(windows)  # type: ignore[list-item]
        probs: list[np.ndarray] = [None] * len(windows)  # type: ignore[list-item]
        vectors: list[np.ndarray] | None = [None] * len(windows) if self.with_vectors else None  # type: ignore[list-item]
        pre = len(self.prefix_ids)
        for b in range(0, len(order), batch_size):
            batch = order[b:b + batch_size]
            input_ids, mask = self._pack(windows, batch)
            logits, hs = self.logits(input_ids, mask)
            t, p = _argmax_prob(logits)
            if hs is not None:
                hs = hs.astype(np.float16)
            for r, j in enumerate(batch):
                n = len(windows[j])
                tag_ids[j] = t[r, pre:pre + n]
                probs[j] = p[r, pre:pre + n]
                if hs is not None:
                    vectors[j] = hs[r, pre:pre + n]  # type: ignore[index]
        return tag_ids, probs, vectors


def _argmax_prob(logits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Argmax tag id and its softmax probability, as torch's ``softmax(-1).max(-1)``."""
    t = logits.argmax(-1)
    top = np.take_along_axis(logits, t[..., None], -1)
    p = 1.0 / np.exp(logits - top).sum(-1)
    return t, p.astype(np.float32)


def main(argv: list[str] | None = None) -> int:
    import argparse

    p = argparse.ArgumentParser(prog="python -m hasila.infer.onnx_runtime",
                                description="Build the ONNX graphs of a model folder into the cache (they are otherwise built on first use).")
    p.add_argument("model", nargs="?", help="model folder (default: $HASILA_MODEL, else the shipped model)")
    p.add_argument("--variant", choices=VARIANTS + ("all",), default="all")
    p.add_argument("--force", action="store_true", help="build again even if cached")
    args = p.parse_args(argv)
    from hasila.infer.model import find_model

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        model = find_model(args.model)
        for v in (VARIANTS if args.variant == "all" else (args.variant,)):
            print(build(model, v, force=args.force))
    except ModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
