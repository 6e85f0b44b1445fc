"""The token classifier on ONNX Runtime (CPU), fp32 or int8; and the choice of runtime.

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

**int8**: the fp32 graph with its linear layers on int8 arithmetic by the recipe of
:mod:`hasila.infer.int8` (per-token activation scales, SmoothQuant, the loudest channels kept
fp32, per-channel int8 weights), from the calibration the model folder carries
(``int8_calibration.json``, ``hasila-train calibrate``). It passes the parity gates on the gold dev
split (README, "Speed"). The recipe before it (ONNX Runtime's ``quantize_dynamic``, one scale per
batch) did not: 90-96 % of the articles kept their figures.

**bf16** is not ONNX: PyTorch with bf16 weights, which CPUs with AMX run on their matrix units.
:func:`resolve_runtime` says which runtime ``auto`` picks where.
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

from hasila.infer import int8
from hasila.infer.int8 import CALIBRATION_FILE, Calibration, CalibrationError, quantize_graph
from hasila.infer.int8 import digest as int8_digest
from hasila.infer.model import ModelError, ModelInfo, TokenClassifier, check_bio_labels, weights_sha256

log = logging.getLogger("hasila.onnx")

RUNTIMES = ("auto", "torch", "bf16", "onnx", "int8")
VARIANTS = ("fp32", "int8")
OPSET = 17
# Derived-graph recipe version: bump when the export or quantization recipe changes, so that
# cached graphs of an older recipe are not reused.
RECIPE = 6
# The export's extra output: the last hidden state in float16 (the heads' type).
HIDDEN_F16 = "last_hidden_state_f16"


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


def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags (Linux ``/proc/cpuinfo``; empty elsewhere)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def _torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def _torch_uses_amx() -> bool:
    """PyTorch can use the AMX tiles (the kernel grants them and torch's oneDNN knows them); torch
    builds without the check are trusted on the CPU flag alone."""
    import torch

    check = getattr(getattr(torch, "cpu", None), "_is_amx_tile_supported", None)
    try:
        return bool(check()) if check is not None else True
    except Exception:  # a private helper: never let it break the choice
        return False


def resolve_runtime(runtime: str | None, device: str, model_dir: str | os.PathLike | None = None,
                    flags: frozenset[str] | None = None) -> str:
    """The runtime to use. ``auto`` on a GPU is PyTorch; on a CPU the fastest of those that pass
    the parity gates (README, "Speed") that this CPU and the model folder allow:

    1. ``bf16`` (PyTorch, bf16 weights) where the CPU has AMX (``amx_bf16``): its matrix units
       make it x4 the fp32 forward pass; without them bf16 is slower than fp32, so never chosen;
    2. ``int8`` (ONNX Runtime) where the CPU has VNNI and the model folder its int8 calibration
       (without VNNI the uint8 x int8 products can saturate);
    3. ``onnx`` (fp32 ONNX Runtime);
    4. ``torch`` (fp32) when onnxruntime is not installed."""
    runtime = runtime or "auto"
    if runtime not in RUNTIMES:
        raise ModelError(f"unknown runtime {runtime!r}; use one of {', '.join(RUNTIMES)}")
    on_cpu = str(device) == "cpu"
    if runtime == "auto":
        if not on_cpu:
            return "torch"
        detected = flags is None
        flags = cpu_flags() if detected else flags
        if "amx_bf16" in flags and _torch_available() and (not detected or _torch_uses_amx()):
            return "bf16"
        if not onnxruntime_available():
            return "torch"
        vnni = bool({"avx512_vnni", "avx_vnni"} & flags)
        return "int8" if vnni and model_dir is not None and has_calibration(model_dir) else "onnx"
    if runtime == "int8" and on_cpu:
        flags = cpu_flags() if flags is None else flags
        if flags and not {"avx512_vnni", "avx_vnni"} & flags:
            log.warning("--runtime int8 on a CPU without VNNI: its uint8 x int8 products can saturate, and the parity "
                        "gates were measured on VNNI / AMX CPUs; --runtime onnx is the safe choice here")
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
    """A token classifier on the asked-for runtime (``auto``, ``torch``, ``bf16``, ``onnx`` or
    ``int8``). ``dtype`` is for PyTorch: with ``auto`` it means PyTorch in that type."""
    from hasila.infer.model import resolve_device

    dev = resolve_device(device)
    dtype = str(dtype).replace("torch.", "") if dtype is not None else None  # torch.bfloat16 -> "bfloat16"
    if (runtime or "auto") == "auto" and dtype is not None:
        runtime = "torch"
    local = path_or_id if Path(path_or_id).is_dir() else None
    chosen = resolve_runtime(runtime, dev, local)
    if chosen in ("torch", "bf16"):
        if chosen == "bf16" and dtype not in (None, "bfloat16"):
            raise ModelError(f"--runtime bf16 runs in bfloat16, not --dtype {dtype}")
        clf = TokenClassifier.load(path_or_id, device=dev, dtype="bfloat16" if chosen == "bf16" else dtype,
                                   batch_size=batch_size, stride=stride, max_length=max_length)
        clf.runtime = chosen
        return clf
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
            # The hidden state also in float16, the heads' type, cast inside the graph: ONNX
            # Runtime's Cast is ten times NumPy's astype (1.4 ms a batch, ~1 ms an article).
            return o.logits, o.hidden_states[-1], o.hidden_states[-1].half()

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
                output_names=["logits", "last_hidden_state", HIDDEN_F16], opset_version=OPSET, dynamo=False,
                dynamic_axes={"input_ids": {0: "batch", 1: "length"}, "attention_mask": {0: "batch", 1: "length"},
                              "logits": {0: "batch", 1: "length"}, "last_hidden_state": {0: "batch", 1: "length"},
                              HIDDEN_F16: {0: "batch", 1: "length"}},
            )

    _atomic_save(write, out)


def quantize_int8(fp32: Path, out: Path, model_dir: Path, calibration: "Calibration",
                  keep_fp32: Sequence[str] = ()) -> list[str]:
    """The int8 graph of ``hasila.infer.int8`` from the fp32 export; returns the modules left fp32."""
    import onnx

    model, kept = quantize_graph(onnx.load(str(fp32)), calibration, checkpoint_state(model_dir), exclude=keep_fp32)
    _atomic_save(lambda tmp: onnx.save(model, str(tmp)), out)
    return kept


def checkpoint_state(model_dir: Path) -> dict[str, np.ndarray]:
    """The tagger's tensors (its safetensors files, the heads' left out), as NumPy arrays."""
    from safetensors.numpy import load_file

    state: dict[str, np.ndarray] = {}
    for f in sorted(model_dir.glob("*.safetensors")):
        if f.name != "heads.safetensors":
            state.update(load_file(str(f)))
    if not state:
        raise ModelError(f"{model_dir}: the int8 runtime needs safetensors weights (model.safetensors)")
    return state


def load_calibration(model_dir: Path, sha: str | None) -> "Calibration":
    """The model folder's int8 calibration, checked against its weights."""
    path = model_dir / CALIBRATION_FILE
    if not path.is_file():
        raise RuntimeUnavailable(f"{model_dir} has no {CALIBRATION_FILE}, which int8 needs: make it with "
                                 f"'hasila-train calibrate --model {model_dir}', or use --runtime onnx")
    try:
        cal = Calibration.load(path)
    except CalibrationError as exc:
        raise ModelError(str(exc)) from exc
    if sha and cal.tagger_sha256 != sha:
        raise ModelError(f"{path} was made for another tagger (sha256 {cal.tagger_sha256[:12]}, the weights are "
                         f"{sha[:12]}): run 'hasila-train calibrate --model {model_dir}' again")
    return cal


def has_calibration(model_dir: str | os.PathLike) -> bool:
    """The folder has an int8 calibration that loads and belongs to its weights. ``auto`` asks
    this before it picks int8: a stale or damaged one falls back to fp32 with a warning (an
    explicit ``--runtime int8`` gets the error instead)."""
    model_dir = Path(model_dir)
    if not (model_dir / CALIBRATION_FILE).is_file():
        return False
    try:
        load_calibration(model_dir, weights_sha256(model_dir))
    except ModelError as exc:
        log.warning("not using int8: %s", exc)
        return False
    return True


def build(model_dir: str | os.PathLike, variant: str = "int8", *, keep_fp32: Sequence[str] = (),
          force: bool = False) -> Path:
    """The derived graph of a local checkpoint (built into the cache if not there yet)."""
    if variant not in VARIANTS:
        raise ModelError(f"unknown ONNX variant {variant!r}; use one of {', '.join(VARIANTS)}")
    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise ModelError(f"the ONNX runtime needs a local model folder, not {str(model_dir)!r}")
    sha = weights_sha256(model_dir)
    cal = load_calibration(model_dir, sha) if variant == "int8" else None  # before the export: fail fast
    fp32 = derived_path(model_dir, "fp32", sha)
    if force or not fp32.exists():
        t0 = time.perf_counter()
        export_fp32(model_dir, fp32)
        log.info("exported %s to %s in %.1f s", model_dir, fp32, time.perf_counter() - t0)
    if cal is None:
        return fp32
    # The calibration and the recipe's settings are part of the name: a change builds anew.
    recipe = json.dumps({"alpha": int8.ALPHA, "outliers": int8.OUTLIERS, "keep_fp32": list(keep_fp32)})
    tag = hashlib.sha256((int8_digest(cal) + recipe).encode()).hexdigest()[:10]
    out = derived_path(model_dir, "int8-" + tag, sha)
    if force or not out.exists():
        t0 = time.perf_counter()
        kept = quantize_int8(fp32, out, model_dir, cal, keep_fp32)
        log.info("quantized %s to %s in %.1f s (fp32 kept: %s)", model_dir, out, time.perf_counter() - t0,
                 ", ".join(kept) or "none")
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
             variant: str = "int8", threads: int | None = None, keep_fp32: Sequence[str] = ()
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
        """Logits and (with ``with_vectors``) the float16 last hidden state of one padded batch."""
        names = ["logits", HIDDEN_F16] if self.with_vectors else ["logits"]
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
            if v == "int8" and args.variant == "all" and not (Path(model) / CALIBRATION_FILE).is_file():
                print(f"int8: skipped, {model} has no {CALIBRATION_FILE} (hasila-train calibrate makes one)",
                      file=sys.stderr)
                continue
            print(build(model, v, force=args.force))
    except ModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
