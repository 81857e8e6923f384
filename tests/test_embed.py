import unicodedata

import numpy as np
import pytest

from stiqa.model.embedder import (
    DEFAULT_MODEL,
    ModelLoadError,
    load_embedder,
    pool_spans,
)
from tests.conftest import minutes_texts


def test_default_model_is_multilingual_e5_on_onnx_runtime(embedder):
    assert embedder.name == DEFAULT_MODEL
    assert embedder.dim == 384
    assert (embedder.query_prompt, embedder.passage_prompt) == ("query: ", "passage: ")
    assert embedder.backend.startswith("onnx")


def test_vectors_are_unit_length_float32_and_batched(embedder):
    vecs = embedder.passages(["東北大学を認定候補に選定", "排水の98%以上を再生", "ISUTがSIP4Dを活用"])
    assert vecs.shape == (3, 384) and vecs.dtype == np.float32
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-4)
    one_by_one = np.vstack([embedder.passages([t]) for t in ["東北大学を認定候補に選定", "排水の98%以上を再生"]])
    # On ONNX Runtime a batch runs its texts side by side on one core each, a lone text on
    # every core: the same vector, bit for bit, whatever the batch and its padding.
    np.testing.assert_array_equal(vecs[:2], one_by_one)


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


def test_pool_spans_averages_the_tokens_a_span_overlaps():
    tokens = np.array([[9.0, 9.0], [1.0, 0.0], [0.0, 1.0], [3.0, 4.0], [9.0, 9.0]])
    offsets = [(0, 0), (0, 3), (3, 5), (6, 9), (0, 0)]  # specials first and last
    a, b, none = pool_spans(tokens, offsets, [(0, 5), (7, 8), (20, 30)])
    assert np.allclose(a, [2**-0.5, 2**-0.5]) and np.allclose(b, [0.6, 0.8]) and none is None


def test_sentence_vectors_come_from_the_passage_run(embedder):
    passage = "量子技術の研究開発を推進する。東北大学を国際卓越研究大学の認定候補に選定した。能登半島に水を届けた。"
    spans = [(0, 15), (15, 39), (39, len(passage))]
    vectors, parts = embedder.passages_with_parts([passage], [spans])
    assert np.allclose(vectors[0], embedder.passages([passage])[0], atol=1e-5)
    alone = embedder.passages([passage[a:b] for a, b in spans])
    assert parts[0].shape == (3, 384)
    assert ((parts[0] @ alone.T).argmax(axis=1) == [0, 1, 2]).all()  # each nearest its own sentence
    assert np.allclose(np.linalg.norm(parts[0], axis=1), 1.0, atol=1e-4)


def test_a_sentence_past_the_models_window_is_embedded_alone(embedder):
    long = "研究開発の推進。" * 300 + "最後の文は窓の外にある。"
    tail = (len(long) - 12, len(long))
    _, parts = embedder.passages_with_parts([long], [[(0, 8), tail]])
    assert np.allclose(parts[0][1], embedder.passages([long[tail[0] :]])[0], atol=1e-5)


@pytest.fixture(scope="module")
def torch_embedder():
    return load_embedder(backend_name="torch")


@pytest.fixture(scope="module")
def real_passages(doc_text):
    """Passages of the deck and of council minutes from the development corpus."""
    deck = [line for line in doc_text.splitlines() if len(line) > 30]
    return deck + minutes_texts(80)


@pytest.fixture(scope="module")
def real_vectors(embedder, torch_embedder, real_passages):
    """The real passages embedded by each backend, once for the tests that compare them."""
    return {model.backend: model.passages(real_passages) for model in (embedder, torch_embedder)}


# Questions on the deck and the minutes, each with words of the passage it should find.
QUESTIONS = [
    ("AIセーフティ・インスティテュートの設立時期は？", "AIセーフティ・インスティテュート"),
    ("東北大学は何の認定候補に選ばれましたか？", "東北大学"),
    ("Which university was selected as a candidate?", "東北大学"),
    ("電子船荷証券について議論した部会は？", "船荷証券"),
    ("What did the subcommittee discuss about electronic bills of lading?", "船荷証券"),
]


def test_onnx_and_torch_give_the_same_vectors_and_rankings_on_real_text(embedder, torch_embedder, real_vectors):
    a, b = real_vectors[embedder.backend], real_vectors[torch_embedder.backend]
    cosine = (a * b).sum(axis=1)
    assert np.median(cosine) > 0.995 and cosine.min() > 0.98
    for question, _ in QUESTIONS:
        qa, qb = embedder.queries([question])[0], torch_embedder.queries([question])[0]
        assert float(qa @ qb) > 0.98
        top_a, top_b = np.argsort(-(a @ qa))[:5], np.argsort(-(b @ qb))[:5]
        assert top_a[0] in top_b[:2] and len(set(top_a) & set(top_b)) >= 3, question


def test_both_backends_find_the_passage_a_question_asks_for(embedder, torch_embedder, real_passages, real_vectors):
    assert embedder.backend != torch_embedder.backend
    for model in (embedder, torch_embedder):
        vecs = real_vectors[model.backend]
        for question, words in QUESTIONS[:4]:  # the fifth is beyond this model on raw minutes, on both backends
            top = np.argsort(-(vecs @ model.queries([question])[0]))[:5]
            assert any(words in unicodedata.normalize("NFKC", real_passages[i]) for i in top), (model.backend, question)


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
    assert emb.dim == 32 and emb.backend == "torch fp32"
    assert (emb.query_prompt, emb.passage_prompt) == ("query: ", "passage: ")
    vecs = emb.passages(["大学の研究", "技術"])
    assert vecs.shape == (2, 32)
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-4)
    assert not np.allclose(emb.queries(["大学の研究"])[0], vecs[0])


def test_any_local_model_runs_on_onnx_runtime_too(tiny_model, tmp_path):
    texts = ["大学の研究", "技術 2024年", "query words in english"]
    reference = load_embedder(str(tiny_model)).passages(texts)
    emb = load_embedder(str(tiny_model), backend_name="onnx", cache_dir=tmp_path)
    assert emb.backend.startswith("onnx") and emb.dim == 32
    assert (emb.query_prompt, emb.passage_prompt) == ("query: ", "passage: ")
    exported = list((tmp_path / "derived").glob("*/onnx/*.onnx"))
    assert exported, "the ONNX files go to the model cache, not into the model's folder"
    assert not (tiny_model / "onnx").exists()
    assert (emb.passages(texts) * reference).sum(axis=1).min() > 0.95
    again = load_embedder(str(tiny_model), backend_name="onnx", cache_dir=tmp_path)  # reuses the export
    assert sorted((tmp_path / "derived").glob("*/onnx/*.onnx")) == sorted(exported)
    assert np.allclose(again.passages(texts), emb.passages(texts), atol=1e-6)


def test_configured_prompts_override_the_models(tiny_model):
    emb = load_embedder(str(tiny_model), query_prompt="q: ", passage_prompt="")
    assert (emb.query_prompt, emb.passage_prompt) == ("q: ", "")


def test_missing_models_fail_with_a_message_and_no_download(tmp_path):
    with pytest.raises(ModelLoadError, match="no sentence-transformers model"):
        load_embedder(str(tmp_path))
    with pytest.raises(ModelLoadError, match="STIQA_ALLOW_DOWNLOAD"):
        load_embedder("example-org/not-a-cached-model")
    with pytest.raises(ModelLoadError, match="onnx, torch"):
        load_embedder(backend_name="tensorflow")
