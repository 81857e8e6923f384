"""Shared fixtures: the real corpus, the real default model, and indexes built once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from stiqa.config import Settings
from stiqa.corpus import split_pages

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
DOC = CORPUS / "sti-policy-2024.txt"


@pytest.fixture(scope="session")
def doc_text() -> str:
    return DOC.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def embedder():
    from stiqa.embed import load_embedder

    return load_embedder()


@pytest.fixture(scope="session")
def index_settings(tmp_path_factory) -> Settings:
    """Where the bundled corpus is indexed for the session (see ``assistant``)."""
    return Settings(corpus_dir=CORPUS, index_dir=tmp_path_factory.mktemp("index"))


@pytest.fixture(scope="session")
def assistant(index_settings, embedder):
    """The bundled corpus indexed once with the real default model."""
    from stiqa.pipeline import Assistant

    return Assistant.build(index_settings, embedder)


def small_corpus(folder: Path, doc_text: str, pages: int = 2) -> Path:
    """A corpus of the first ``pages`` slides of the real document: quick to index."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = split_pages(doc_text)[:pages]
    end = lines[-1][-1][1] + len(lines[-1][-1][0])
    (folder / "excerpt.txt").write_text(doc_text[:end] + "\n", encoding="utf-8")
    return folder


@pytest.fixture()
def small_settings(tmp_path, doc_text) -> Settings:
    corpus = small_corpus(tmp_path / "corpus", doc_text)
    return Settings(corpus_dir=corpus, index_dir=tmp_path / "index")
