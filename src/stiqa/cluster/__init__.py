"""Past one machine: stiqa's stages run on a Ray cluster (``pip install "stiqa[cluster]"``).

:mod:`.indexing` builds the index as a Ray Data job: files are read, repaired and cut into
passages, and passages embedded, on worker pools across the cluster; the build is then
written and switched to exactly as on one machine (:func:`stiqa.index.build_index`, with
a cluster reader and embedder), so both give the same index.

Beside the server stage: may import the foundation modules, :mod:`stiqa.ingest`,
:mod:`stiqa.model` and :mod:`stiqa.index`. Nothing else imports Ray: single-machine use
never loads it.
"""
