"""int8 for the CPU: the encoder's linear layers on int8 arithmetic, with the figures kept.

Plain dynamic int8 (ONNX Runtime's ``quantize_dynamic``: one activation scale per tensor, that is
per batch of 16 windows) changed the incident figures of 4-17 % of the dev articles. Three things
in the encoder's activations cause it, and the recipe answers each
(``benchmarks/onnx_parity.py`` measures them, README "Speed"):

1. *One scale per batch*: a single loud token sets the step for all 2,048 of the batch. Here each
   token (row) gets its own scale, computed on the fly: ``s = max |x| / 127``.
2. *Outlier channels*: a few hidden channels are 10-20x louder than the median on every token
   (measured by calibration: up to 31.7 against a median of 2.3). The 32 loudest channels of
   each layer input stay fp32 (a thin fp32 Gemm beside the int8 product, as in LLM.int8(); it
   adds the bias too); the
   rest are smoothed (SmoothQuant, alpha 0.5: ``x W = (x / m) (m W)`` with ``m = a^0.5 / w^0.5``
   per channel, ``a`` the calibrated max |x|, ``w`` the max |W| of that row), which moves the
   remaining imbalance from the activations into the per-channel weight scales.
3. *GELU outputs are one-sided* (>= -0.17): the feed-forward output layer's input is shifted to
   be >= 0 and quantized on the full uint8 range, twice the steps of a symmetric code; the
   shift's contribution (a constant vector) is taken back off.

Weights are int8 per output channel (symmetric). The arithmetic is ``MatMulIntegerToFloat``
(uint8 x int8 -> float, ONNX Runtime's contrib op; VNNI / AMX kernels where the CPU has them).
Attention's own products (QK^T, softmax x V), layer norms and GELU stay fp32.

The calibration (per-channel max |input| of every linear layer, on gold train windows through the
runtime's own windows) is part of the model: ``int8_calibration.json`` beside the weights, made by
``hasila-train calibrate``, keyed by module name and tied to the tagger's sha256. The ONNX
graph's MatMuls are matched to modules by their weights, not their names, so a graph exported by
another torch version still finds its calibration.

Pure functions of (graph, weights, calibration); no torch. Used by :mod:`hasila.infer.onnx_runtime`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np

CALIBRATION_FILE = "int8_calibration.json"
CALIBRATION_FORMAT = 1
ALPHA = 0.5  # SmoothQuant migration strength (chosen on train windows: tags changed vs fp32)
OUTLIERS = 32  # loudest input channels per linear layer kept fp32 (chosen on train + dev windows: tags changed)
GELU_MIN = 0.1700  # GELU(x) >= -0.16997 for every x
# An op within this many producers of a MatMul's input that marks it as a GELU output.
_GELU_OPS = ("Erf", "Gelu", "BiasGelu", "FastGelu", "Tanh")


class CalibrationError(ValueError):
    """The calibration file is missing a field, belongs to another tagger, or is damaged."""


@dataclass(frozen=True)
class Calibration:
    """Per-channel max |input| of each linear layer (module name -> vector), for one tagger."""

    tagger_sha256: str
    inputs: Mapping[str, np.ndarray]
    data: str = ""
    documents: int = 0
    tokens: int = 0
    meta: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"format": CALIBRATION_FORMAT, "tagger_sha256": self.tagger_sha256, "data": self.data,
                "documents": self.documents, "tokens": self.tokens, **dict(self.meta),
                "inputs": {k: [float(f"{x:.5g}") for x in v] for k, v in sorted(self.inputs.items())}}

    def save(self, path: Path) -> None:
        """Written to a temporary file beside ``path``, then renamed: never half a file."""
        import os
        import tempfile

        fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(json.dumps(self.to_json(), ensure_ascii=False) + "\n")
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    @classmethod
    def load(cls, path: Path) -> "Calibration":
        try:
            d = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CalibrationError(f"{path}: cannot read the int8 calibration ({exc})") from exc
        if not isinstance(d, dict) or d.get("format") != CALIBRATION_FORMAT:
            raise CalibrationError(f"{path}: not an int8 calibration of format {CALIBRATION_FORMAT}")
        try:
            inputs = {str(k): np.asarray(v, dtype=np.float32) for k, v in d["inputs"].items()}
            sha = str(d["tagger_sha256"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise CalibrationError(f"{path}: damaged int8 calibration ({exc!r})") from exc
        if not inputs:
            raise CalibrationError(f"{path}: the int8 calibration has no layers (was it made on any text?)")
        bad = [k for k, v in inputs.items() if v.ndim != 1 or not np.all(np.isfinite(v)) or np.any(v < 0)]
        if bad:
            raise CalibrationError(f"{path}: input maxima of {bad[0]!r} are not a vector of finite values >= 0")
        meta = {k: v for k, v in d.items() if k not in ("format", "tagger_sha256", "inputs", "data", "documents", "tokens")}
        try:
            documents, tokens = int(d.get("documents") or 0), int(d.get("tokens") or 0)
        except (TypeError, ValueError) as exc:
            raise CalibrationError(f"{path}: damaged int8 calibration ({exc!r})") from exc
        return cls(sha, inputs, str(d.get("data", "")), documents, tokens, meta)


def digest(calibration: Calibration) -> str:
    import hashlib

    return hashlib.sha256(json.dumps(calibration.to_json(), sort_keys=True).encode()).hexdigest()


# -- matching graph MatMuls to modules --------------------------------------------------------

def _key(w: np.ndarray) -> tuple[tuple[int, ...], bytes]:
    """A weight's identity across fp16/fp32 copies: its values rounded to fp16, as bytes."""
    return w.shape, np.ascontiguousarray(w, dtype=np.float16).tobytes()


def modules_by_weight(state: Mapping[str, np.ndarray]) -> dict[tuple[tuple[int, ...], bytes], str]:
    """``nn.Linear`` weights ([out, in]) of a state dict, keyed as their ONNX MatMul operand
    ([in, out]) would be, -> module name."""
    out = {}
    for name, w in state.items():
        if name.endswith(".weight") and w.ndim == 2:
            out[_key(np.asarray(w).T)] = name[: -len(".weight")]
    return out


# -- the graph transform ----------------------------------------------------------------------

def _after_gelu(tensor: str, producer: Mapping[str, Any], depth: int = 4) -> bool:
    frontier = [tensor]
    for _ in range(depth):
        nodes = [producer[t] for t in frontier if t in producer]
        if any(n.op_type in _GELU_OPS for n in nodes):
            return True
        frontier = [i for n in nodes for i in n.input]
    return False


def smoothing(amax: np.ndarray, w_rows: np.ndarray, alpha: float) -> np.ndarray:
    """SmoothQuant's per-channel divisor ``a^alpha / w^(1-alpha)``, normalized to geometric mean 1."""
    m = np.maximum(amax, 1e-5) ** alpha / np.maximum(w_rows, 1e-5) ** (1 - alpha)
    return (m / np.exp(np.log(m).mean())).astype(np.float32)


def quantize_weight(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric int8 per output channel (column): ``w ~ q * scale``."""
    scale = (np.maximum(np.abs(w).max(0), 1e-12) / 127.0).astype(np.float32)
    return np.clip(np.round(w / scale), -127, 127).astype(np.int8), scale


def quantize_graph(model: Any, calibration: Calibration, state: Mapping[str, np.ndarray], *,
                   alpha: float = ALPHA, outliers: int = OUTLIERS, exclude: Iterable[str] = ()) -> tuple[Any, list[str]]:
    """The fp32 ONNX encoder ``model`` (an ``onnx.ModelProto``, changed in place and returned)
    with its calibrated linear layers on int8; returns it and the module names left fp32.

    ``state``: the checkpoint's tensors (to match MatMuls to modules); ``exclude``: module-name
    substrings to keep fp32."""
    from onnx import helper, numpy_helper

    g = model.graph
    inits = {i.name: i for i in g.initializer}
    producer = {o: n for n in g.node for o in n.output}
    consumers: dict[str, list[Any]] = {}
    for n in g.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    graph_outputs = frozenset(o.name for o in g.output)
    by_weight = modules_by_weight(state)
    excluded = tuple(exclude)
    added: list[Any] = []

    def const(name: str, value: np.ndarray) -> str:
        added.append(numpy_helper.from_array(value, name))
        return name

    # Linear layers (MatMul with a 2-D constant operand) grouped by input: q, k and v share one.
    groups: dict[str, list[tuple[Any, str, np.ndarray]]] = {}
    kept: list[str] = []
    for n in g.node:
        if n.op_type != "MatMul" or n.input[1] not in inits:
            continue
        w = numpy_helper.to_array(inits[n.input[1]]).astype(np.float32)
        module = by_weight.get(_key(w)) if w.ndim == 2 else None
        if module is None:
            continue
        if module not in calibration.inputs or any(p in module for p in excluded) \
                or calibration.inputs[module].shape != (w.shape[0],):
            kept.append(module)
            continue
        groups.setdefault(n.input[0], []).append((n, module, w))

    if not groups:
        raise CalibrationError(f"the int8 calibration matches none of the graph's {len(kept)} linear layers "
                               f"(calibrated: {', '.join(sorted(calibration.inputs)[:3])}, ...); was it made for this model?")
    const("q8_eps", np.array(1e-8, np.float32))
    const("q8_one", np.array(1.0, np.float32))
    const("q8_zp128", np.array(128, np.uint8))
    const("q8_zp0", np.array(0, np.uint8))
    const("q8_inv127", np.array(1 / 127.0, np.float32))
    const("q8_inv255", np.array(1 / 255.0, np.float32))
    before: dict[str, list[Any]] = {}  # node name -> nodes to put before it
    replace: dict[str, list[Any]] = {}  # node name -> its replacement
    drop: set[str] = set()  # outputs of the bias Adds a Gemm took over
    const("q8_pad1", np.array([0, 0, 0, 1], np.int64))
    for gi, (x, members) in enumerate(groups.items()):
        p = f"q8_{gi}_"
        amax = np.max([calibration.inputs[m] for _, m, _ in members], 0)
        gelu = _after_gelu(x, producer)
        pre: list[Any] = []
        # At most an eighth of a layer's inputs go fp32 (all 32 of the shipped model's 384 or 1,536):
        # on a small layer "the loudest 32" could be all of them, leaving no int8 product at all.
        n_loud = min(outliers, len(amax) // 8)
        loud = np.sort(np.argsort(-amax)[:n_loud]) if n_loud else np.zeros(0, np.int64)
        ws = [w.copy() for _, _, w in members]
        for w in ws:
            w[loud] = 0.0  # those rows go through the fp32 side
        quiet_amax = amax.copy()
        quiet_amax[loud] = 0.0
        m = smoothing(np.where(quiet_amax > 0, quiet_amax, np.median(amax)), np.max([np.abs(w).max(1) for w in ws], 0), alpha)
        inv = (1.0 / m).astype(np.float32)
        inv[loud] = 0.0  # the loud channels are zeroed on the int8 side
        ws = [w * m[:, None] for w in ws]
        pre.append(helper.make_node("Mul", [x, const(p + "inv", inv)], [p + "xs"]))
        if len(loud):  # [..., k] -> [tokens, k + 1], the last column 1: the fp32 side adds the bias too
            pre += [helper.make_node("Gather", [x, const(p + "loud", loud.astype(np.int64))], [p + "xl"], axis=-1),
                    helper.make_node("Reshape", [p + "xl", const(p + "k2d", np.array([-1, len(loud)], np.int64))],
                                     [p + "xl2"]),
                    helper.make_node("Pad", [p + "xl2", "q8_pad1", "q8_one"], [p + "xl1"])]
        # Per-token code: s = max(row) / levels, q = round(x / s) + zero point. GELU inputs are
        # one-sided: shifted to >= 0 they use all 255 levels; the others are symmetric (127 and 128).
        shift = (GELU_MIN * inv).astype(np.float32) if gelu else None
        if shift is not None:
            pre.append(helper.make_node("Add", [p + "xs", const(p + "shift", shift)], [p + "xp"]))
            coded, magnitude, levels, zero_point = p + "xp", p + "xp", "q8_inv255", "q8_zp0"
        else:
            pre.append(helper.make_node("Abs", [p + "xs"], [p + "abs"]))
            coded, magnitude, levels, zero_point = p + "xs", p + "abs", "q8_inv127", "q8_zp128"
        pre += [helper.make_node("ReduceMax", [magnitude], [p + "mx"], axes=[-1], keepdims=1),
                helper.make_node("Max", [p + "mx", "q8_eps"], [p + "mx2"]),
                helper.make_node("Mul", [p + "mx2", levels], [p + "s"]),
                helper.make_node("Div", [coded, p + "s"], [p + "xd"]),
                helper.make_node("QuantizeLinear", [p + "xd", "q8_one", zero_point], [p + "q"])]
        before[members[0][0].name] = pre
        for k, ((node, module, w_full), w) in enumerate(zip(members, ws)):
            q, scale = quantize_weight(w)
            y = node.output[0]
            n_out = w.shape[1]
            bias_add, bias = _bias_of(y, consumers, inits, graph_outputs)
            correction = (-(shift @ (q.astype(np.float32) * scale)) if shift is not None  # (x + shift) W = x W + shift W
                          else np.zeros(n_out, np.float32))
            # The per-token scale goes in as a_scale ([batch, length, 1]); the bias never goes in:
            # with a non-scalar a_scale, ONNX Runtime 1.32 multiplies the bias by it too.
            int8_out = p + f"y{k}" if len(loud) else y
            nodes = [helper.make_node("MatMulIntegerToFloat", [p + "q", const(p + f"w{k}", q), p + "s",
                                                                const(p + f"ws{k}", scale), zero_point],
                                      [int8_out], domain="com.microsoft", name=node.name + "/int8")]
            if len(loud):
                # One Gemm adds the loud channels' fp32 product, the bias and the shift's correction
                # to the int8 product: [tokens, k + 1] x [k + 1, out] + C.
                last = correction + (numpy_helper.to_array(inits[bias]).astype(np.float32) if bias else 0.0)
                w_aug = np.concatenate([w_full[loud], last[None, :]], 0).astype(np.float32)
                out = y
                if bias_add is not None:
                    drop.add(bias_add.output[0])
                    out = bias_add.output[0]
                nodes += [helper.make_node("Reshape", [int8_out, const(p + f"n{k}", np.array([-1, n_out], np.int64))],
                                           [p + f"y2d{k}"]),
                          helper.make_node("Gemm", [p + "xl1", const(p + f"wl{k}", w_aug), p + f"y2d{k}"], [p + f"g{k}"]),
                          helper.make_node("Shape", [int8_out], [p + f"sh{k}"]),
                          helper.make_node("Reshape", [p + f"g{k}", p + f"sh{k}"], [out])]
            elif bias is not None:  # the bias is this layer's alone (_bias_of): fold the correction in
                b = numpy_helper.to_array(inits[bias]).astype(np.float32) + correction
                inits[bias].CopyFrom(numpy_helper.from_array(b, bias))
            elif shift is not None:
                nodes[-1].output[0] = p + f"yc{k}"
                nodes.append(helper.make_node("Add", [p + f"yc{k}", const(p + f"c{k}", correction.astype(np.float32))], [y]))
            replace[node.name] = nodes

    new_nodes = []
    for n in g.node:
        if n.op_type == "Add" and n.output[0] in drop:
            continue
        new_nodes += before.get(n.name, [])
        new_nodes += replace.get(n.name, [n])
    del g.node[:]
    g.node.extend(new_nodes)
    g.initializer.extend(added)
    used = {i for n in g.node for i in n.input} | {o.name for o in g.output}
    live = [i for i in g.initializer if i.name in used]
    del g.initializer[:]
    g.initializer.extend(live)
    if not any(o.domain == "com.microsoft" for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    return model, sorted(set(kept))


def _bias_of(y: str, consumers: Mapping[str, list[Any]], inits: Mapping[str, Any],
             outputs: frozenset[str] = frozenset()) -> tuple[Any, str | None]:
    """The Add that is a MatMul output's only consumer and adds a 1-D constant used by nothing
    else (its bias), and that constant's name; ``(None, None)`` if there is none (then the bias,
    if any, is not ours to change)."""
    from onnx import numpy_helper

    users = consumers.get(y, [])
    if y in outputs or len(users) != 1 or users[0].op_type != "Add":
        return None, None
    other = [i for i in users[0].input if i != y]
    if (len(other) == 1 and other[0] in inits and len(consumers.get(other[0], [])) == 1
            and numpy_helper.to_array(inits[other[0]]).ndim == 1):
        return users[0], other[0]
    return None, None
