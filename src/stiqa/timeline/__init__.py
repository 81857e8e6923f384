"""Stage 3 beside :mod:`stiqa.qa`, the timeline: every dated statement of the indexed
documents as an event (:mod:`.events`), filtered and rendered for the CLI (:mod:`.view`).

Reads a loaded index and needs no model. May import the foundation modules and
:mod:`stiqa.index`; never :mod:`stiqa.qa`, :mod:`stiqa.service` or :mod:`stiqa.server`.
"""
