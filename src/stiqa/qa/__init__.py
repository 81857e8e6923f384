"""Stage 3, question answering: find the passages for a question (:mod:`.retrieve`: dense,
BM25 and their fusion) and pick the excerpt that answers it, or abstain (:mod:`.answer`,
with the kinds of answer a question asks for in :mod:`.kinds`).

May import the foundation modules, :mod:`stiqa.ingest`, :mod:`stiqa.model` and
:mod:`stiqa.index`; never :mod:`stiqa.timeline`, :mod:`stiqa.service` or :mod:`stiqa.server`.
"""
