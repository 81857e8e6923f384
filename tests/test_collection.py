"""Adding documents to the corpus and removing them: the folder rules, and `stiqa add`/`remove`
rebuilding only what changed."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from stiqa.cli import app
from stiqa.ingest.collection import (
    CollectionError,
    add_files,
    remove_documents,
    safe_relative,
)
from tests.test_ingest import make_pdf

runner = CliRunner()


@pytest.mark.parametrize("name", ["../x.pdf", "/etc/passwd", "a/../../x", ".hidden.pdf", "a/.git/x", "bad\nname.txt", ""])
def test_names_that_would_leave_the_corpus_or_hide_are_refused(name):
    with pytest.raises(CollectionError):
        safe_relative(name)


def test_add_copies_refuses_silent_replacement_and_remove_deletes(tmp_path):
    corpus, src = tmp_path / "corpus", tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text("一つ目の文書です。", encoding="utf-8")
    (src / "sub" / "b.md").write_text("# 見出し\n本文です。", encoding="utf-8")
    added = add_files(corpus, [src / "a.txt", src / "sub"], folder="new")
    assert [(a.doc, a.status) for a in added] == [("new/a.txt", "added"), ("new/b.md", "added")]
    assert (corpus / "new" / "b.md").read_text(encoding="utf-8").startswith("# 見出し")
    assert [a.status for a in add_files(corpus, [src / "a.txt"], folder="new")] == ["unchanged"]
    (src / "a.txt").write_text("書き換えた文書です。", encoding="utf-8")
    with pytest.raises(CollectionError, match="--replace"):
        add_files(corpus, [src / "a.txt"], folder="new")
    assert (corpus / "new" / "a.txt").read_text(encoding="utf-8") == "一つ目の文書です。"  # untouched
    assert [a.status for a in add_files(corpus, [src / "a.txt"], folder="new", replace=True)] == ["replaced"]
    with pytest.raises(CollectionError, match="not in the corpus: new/c.txt"):
        remove_documents(corpus, ["new/a.txt", "new/c.txt"])
    assert (corpus / "new" / "a.txt").exists()  # refused as a whole
    remove_documents(corpus, ["new/a.txt", "new/b.md"])
    assert list(corpus.iterdir()) == []  # the emptied folder went too
    assert not list(tmp_path.rglob("*.part"))


def test_stiqa_add_reads_and_embeds_only_the_new_document(small_settings, embedder, tmp_path, monkeypatch):
    monkeypatch.setenv("STIQA_CORPUS_DIR", str(small_settings.corpus_dir))
    monkeypatch.setenv("STIQA_INDEX_DIR", str(small_settings.index_dir))
    r = runner.invoke(app, ["index"])
    assert r.exit_code == 0, r.output
    before = r.stderr
    new = tmp_path / "grant.pdf"
    new.write_bytes(make_pdf(["The grant programme opens on 1 April 2025.", "Applications close in May."]))
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(make_pdf(["", ""]))
    r = runner.invoke(app, ["add", str(new), str(broken), "--into", "grants"])
    assert r.exit_code == 0, r.output
    assert "added grants/grant.pdf" in r.stderr and "skipped grants/broken.pdf: no text layer" in r.stderr
    first = int(re.search(r"^embedding (\d+) passages \(0 unchanged", before, re.M).group(1))
    new_passages, kept = map(int, re.search(r"^embedding (\d+) passages \((\d+) unchanged", r.stderr, re.M).groups())
    assert (new_passages, kept) == (2, first)  # the grant's two pages; the rest kept their vectors
    r = runner.invoke(app, ["documents", "--json"])
    docs = {d["name"]: d for d in json.loads(r.stdout)["documents"]}
    assert docs["grants/grant.pdf"]["pages"] == 2 and docs["grants/broken.pdf"]["status"] == "skipped"
    r = runner.invoke(app, ["ask", "When does the grant programme open?", "--doc", "grants/grant.pdf", "--json"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["remove", "grants/grant.pdf", "grants/broken.pdf"])
    assert r.exit_code == 0, r.output
    assert "embedding 0 passages" in r.stderr
    r = runner.invoke(app, ["remove", "grants/grant.pdf"])
    assert r.exit_code == 2 and "not in the corpus" in r.output
