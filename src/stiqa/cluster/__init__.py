"""Past one machine: stiqa's stages run on a Ray cluster (``pip install "stiqa[cluster]"``).

:mod:`.indexing` builds the index as a Ray Data job: files are read, repaired and cut into
passages, and passages embedded, on worker pools across the cluster; the build is then
written and switched to exactly as on one machine (:func:`stiqa.index.build_index`, with
a cluster reader and embedder), so both give the same index.

:mod:`.serving` serves the API on Ray Serve: the index in shards (:mod:`stiqa.index.search`),
a front end that merges their candidates and answers (the FastAPI app over a
:class:`~stiqa.service.assistant.Assistant` whose searcher is the shards), and a blue/green
roll-out of each new build.

Beside the server stage: may import the foundation modules, :mod:`stiqa.ingest`,
:mod:`stiqa.model`, :mod:`stiqa.index`, :mod:`stiqa.service` and :mod:`stiqa.server`.
Nothing else imports Ray: single-machine use never loads it.
"""
