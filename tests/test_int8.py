"""The int8 recipe (infer/int8.py) on small hand-made graphs: weight codes, smoothing, the
calibration file, and the graph transform against fp32 ONNX Runtime."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from hasila.infer.int8 import (Calibration, CalibrationError, modules_by_weight, quantize_graph,  # noqa: E402
                               quantize_weight, smoothing)

RNG = np.random.default_rng(7)
D, H = 24, 64  # hidden, feed-forward


def test_weight_codes_are_per_output_channel_and_within_half_a_step():
    w = RNG.normal(size=(D, H)).astype(np.float32)
    w[:, 3] *= 50  # one loud column must not coarsen the others
    w[:, 5] = 0.0  # an all-zero column is fine
    q, scale = quantize_weight(w)
    assert q.dtype == np.int8 and scale.shape == (H,)
    assert np.all(np.abs(q.astype(np.float32) * scale - w) <= scale / 2 + 1e-7)
    assert np.abs(q).max() <= 127 and not np.any(q[:, 5])
    assert scale[3] > 20 * np.median(scale)


def test_smoothing_moves_loud_channels_and_keeps_the_scale():
    amax = np.ones(D, np.float32)
    amax[2] = 40.0
    m = smoothing(amax, np.ones(D, np.float32), 0.5)
    assert np.isclose(np.exp(np.log(m).mean()), 1.0, atol=1e-5)
    assert m[2] == pytest.approx(np.sqrt(40.0) * m[0], rel=1e-4)  # a^0.5 over the others


def test_calibration_round_trip_and_clear_errors(tmp_path):
    cal = Calibration("ab" * 32, {"enc.l1": np.arange(4, dtype=np.float32)}, data="gold-train", documents=3, tokens=40)
    path = tmp_path / "int8_calibration.json"
    cal.save(path)
    back = Calibration.load(path)
    assert back.tagger_sha256 == cal.tagger_sha256 and back.documents == 3 and back.tokens == 40
    assert np.allclose(back.inputs["enc.l1"], [0, 1, 2, 3])
    bad = json.loads(path.read_text(encoding="utf-8"))
    for change, message in (({"format": 99}, "format"), ({"inputs": {"enc.l1": [1.0, -2.0]}}, "enc.l1"),
                            ({"inputs": {"enc.l1": [[1.0]]}}, "enc.l1"), ({"tagger_sha256": None, "inputs": None}, "damaged"),
                            ({"inputs": {}}, "no layers")):
        path.write_text(json.dumps({**bad, **change}), encoding="utf-8")
        with pytest.raises(CalibrationError, match=message):
            Calibration.load(path)
    path.write_bytes(b"\xff\xfe not json")
    with pytest.raises(CalibrationError, match="cannot read"):
        Calibration.load(path)


def test_modules_are_found_by_their_weights_whatever_the_precision():
    w = RNG.normal(size=(H, D)).astype(np.float16)  # nn.Linear stores [out, in]
    table = modules_by_weight({"enc.l1.weight": w, "enc.l1.bias": np.zeros(H, np.float16)})
    from hasila.infer.int8 import _key

    assert table[_key(w.T.astype(np.float32))] == "enc.l1"


def _ffn_graph(w1, b1, w2, b2):
    """x -> x W1 + b1 -> exact GELU (Erf) -> . W2 + b2 -> y, as torch exports a BERT feed-forward."""
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["h0"], name="l1/MatMul"),
        helper.make_node("Add", ["b1", "h0"], ["h"], name="l1/Add"),
        helper.make_node("Div", ["h", "sqrt2"], ["hd"]),
        helper.make_node("Erf", ["hd"], ["he"]),
        helper.make_node("Add", ["he", "one"], ["he1"]),
        helper.make_node("Mul", ["h", "he1"], ["hm"]),
        helper.make_node("Mul", ["hm", "half"], ["g"]),
        helper.make_node("MatMul", ["g", "w2"], ["y0"], name="l2/MatMul"),
        helper.make_node("Add", ["b2", "y0"], ["y"], name="l2/Add"),
    ]
    inits = [numpy_helper.from_array(a, n) for a, n in ((w1, "w1"), (b1, "b1"), (w2, "w2"), (b2, "b2"),
                                                         (np.array(np.sqrt(2), np.float32), "sqrt2"),
                                                         (np.array(1.0, np.float32), "one"), (np.array(0.5, np.float32), "half"))]
    g = helper.make_graph(nodes, "ffn", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["b", "t", D])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["b", "t", D])], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


def _run(model, x):
    import onnxruntime as ort

    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]


def test_graph_transform_keeps_the_outputs_close_to_fp32():
    w1 = (RNG.normal(size=(D, H)) / np.sqrt(D)).astype(np.float32)
    w2 = (RNG.normal(size=(H, D)) / np.sqrt(H)).astype(np.float32)
    b1, b2 = RNG.normal(size=H).astype(np.float32), RNG.normal(size=D).astype(np.float32)
    x = RNG.normal(size=(3, 10, D)).astype(np.float32)
    x[..., 4] *= 30.0  # an outlier channel on every token, as BERT's layer norms make them
    x[1, 2] *= 20.0  # and one loud token: its own scale must not coarsen the others
    model = _ffn_graph(w1, b1, w2, b2)
    ref = _run(model, x)
    h = x @ w1 + b1
    gelu = 0.5 * h * (1 + np.vectorize(__import__("math").erf)(h / np.sqrt(2)))
    cal = Calibration("x", {"l1": np.abs(x).reshape(-1, D).max(0), "l2": np.abs(gelu).reshape(-1, H).max(0).astype(np.float32)})
    state = {"l1.weight": w1.T, "l1.bias": b1, "l2.weight": w2.T, "l2.bias": b2}
    q, kept = quantize_graph(_ffn_graph(w1, b1, w2, b2), cal, state, outliers=2)
    ops = [n.op_type for n in q.graph.node]
    assert ops.count("MatMulIntegerToFloat") == 2 and kept == []
    assert "Gather" in ops  # the loudest channels go through fp32
    out = _run(q, x)
    rel = np.abs(out - ref).max() / np.abs(ref).max()
    assert rel < 0.02, rel
    # the quiet tokens beside the loud one keep their precision
    assert np.abs(out[1, 0] - ref[1, 0]).max() / np.abs(ref[1, 0]).max() < 0.02
    # without the recipe's parts (no outliers kept) it is measurably worse on this input
    plain, _ = quantize_graph(_ffn_graph(w1, b1, w2, b2), cal, state, outliers=0, alpha=0.0)
    assert np.abs(_run(plain, x) - ref).max() > np.abs(out - ref).max()


def test_layers_without_calibration_or_excluded_stay_fp32():
    w1 = RNG.normal(size=(D, H)).astype(np.float32)
    w2 = RNG.normal(size=(H, D)).astype(np.float32)
    b1, b2 = np.zeros(H, np.float32), np.zeros(D, np.float32)
    state = {"l1.weight": w1.T, "l2.weight": w2.T}
    cal = Calibration("x", {"l1": np.ones(D, np.float32)})  # no l2
    q, kept = quantize_graph(_ffn_graph(w1, b1, w2, b2), cal, state)
    assert [n.op_type for n in q.graph.node].count("MatMulIntegerToFloat") == 1 and kept == ["l2"]
    # nothing left to quantize: an error, never an fp32 graph under the int8 name
    with pytest.raises(CalibrationError, match="matches none"):
        quantize_graph(_ffn_graph(w1, b1, w2, b2), cal, state, exclude=["l1"])
    with pytest.raises(CalibrationError, match="matches none"):
        quantize_graph(_ffn_graph(w1, b1, w2, b2), Calibration("x", {"other.l1": np.ones(D, np.float32)}), state)


def _emulate(x, w, b, amax, alpha, gelu, loud):
    """The recipe in NumPy, step by step (the reference the graph must reproduce)."""
    from hasila.infer.int8 import GELU_MIN

    w = w.copy()
    quiet = amax.copy()
    quiet[loud] = 0.0
    w_q = w.copy()
    w_q[loud] = 0.0
    m = smoothing(np.where(quiet > 0, quiet, np.median(amax)), np.abs(w_q).max(1), alpha)
    inv = 1.0 / m
    inv[loud] = 0.0
    xs = x * inv
    q, scale = quantize_weight(w_q * m[:, None])
    if gelu:
        shift = GELU_MIN * inv
        xp = xs + shift
        s = np.maximum(xp.max(-1, keepdims=True), 1e-8) / 255.0
        code = np.clip(np.round(xp / s), 0, 255)
        y = (code @ q.astype(np.float32)) * s * scale - shift @ (q.astype(np.float32) * scale)
    else:
        s = np.maximum(np.abs(xs).max(-1, keepdims=True), 1e-8) / 127.0
        code = np.clip(np.round(xs / s), -128, 127)
        y = (code @ q.astype(np.float32)) * s * scale
    return y + x[..., loud] @ w[loud] + (0 if b is None else b)


@pytest.mark.parametrize("loud_n", [0, 2])
@pytest.mark.parametrize("with_bias", [True, False])
def test_graph_reproduces_the_recipe_exactly(loud_n, with_bias):
    """Each path of the transform — bias folded or its own Add, loud channels or none, the GELU
    shift's correction — against the NumPy emulation of the recipe (float rounding only)."""
    w1 = (RNG.normal(size=(D, H)) / np.sqrt(D)).astype(np.float32)
    w2 = (RNG.normal(size=(H, D)) / np.sqrt(H)).astype(np.float32)
    b1 = RNG.normal(size=H).astype(np.float32)
    b2 = RNG.normal(size=D).astype(np.float32) if with_bias else np.zeros(D, np.float32)
    x = RNG.normal(size=(2, 5, D)).astype(np.float32)
    model = _ffn_graph(w1, b1, w2, b2)
    if not with_bias:  # l2 without its Add: the correction needs an Add of its own
        nodes = [n for n in model.graph.node if n.name != "l2/Add"]
        nodes[-1].output[0] = "y"
        del model.graph.node[:]
        model.graph.node.extend(nodes)
    h = x @ w1 + b1
    g = 0.5 * h * (1 + np.vectorize(__import__("math").erf)(h / np.sqrt(2)))
    cal = Calibration("x", {"l2": (np.abs(g).reshape(-1, H).max(0) * 1.5).astype(np.float32)})
    state = {"l1.weight": w1.T, "l2.weight": w2.T}
    q, kept = quantize_graph(model, cal, state, outliers=loud_n)
    assert kept == ["l1"]
    loud = np.sort(np.argsort(-cal.inputs["l2"])[:loud_n])
    want = _emulate(g.astype(np.float32), w2, b2 if with_bias else None, cal.inputs["l2"], 0.5, True, loud)
    got = _run(q, x)
    assert np.abs(got - want).max() < 2e-3 * np.abs(want).max(), np.abs(got - want).max()


def test_a_shared_bias_is_never_changed_in_place():
    w1 = (RNG.normal(size=(D, H)) / np.sqrt(D)).astype(np.float32)
    w2 = (RNG.normal(size=(H, D)) / np.sqrt(H)).astype(np.float32)
    b = RNG.normal(size=D).astype(np.float32)
    model = _ffn_graph(w1, RNG.normal(size=H).astype(np.float32), w2, b)
    model.graph.initializer.append(numpy_helper.from_array(b, "b2_again"))
    # a second user of the bias initializer "b2"
    model.graph.node.append(helper.make_node("Add", ["y", "b2"], ["y2"]))
    model.graph.output.append(helper.make_tensor_value_info("y2", TensorProto.FLOAT, ["b", "t", D]))
    x = RNG.normal(size=(2, 5, D)).astype(np.float32)
    h = x @ w1
    cal = Calibration("x", {"l2": np.full(H, 3.0, np.float32)})
    q, _ = quantize_graph(model, cal, {"l1.weight": w1.T, "l2.weight": w2.T}, outliers=0)
    bias_now = {i.name: numpy_helper.to_array(i) for i in q.graph.initializer}["b2"]
    assert np.array_equal(bias_now, b)
    import onnxruntime as ort

    y, y2 = ort.InferenceSession(q.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, {"x": x})
    assert np.allclose(y2 - y, b, atol=1e-5)  # the other Add still adds the true bias
    assert h is not None
