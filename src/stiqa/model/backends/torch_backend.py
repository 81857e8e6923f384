"""The reference backend: sentence-transformers' own modules on torch, float32."""

from __future__ import annotations

import torch
from sentence_transformers import SentenceTransformer

from stiqa.model.backends.base import Backend, ModelFolder
from stiqa.model.quiet import quiet


class TorchBackend(Backend):
    name = "torch"

    def load(self, folder: ModelFolder, threads: int) -> SentenceTransformer:
        torch.set_num_threads(threads)
        with quiet():  # BERT's unused pooler is "newly initialized"
            return SentenceTransformer(str(folder.path), device="cpu", local_files_only=True)

    def describe(self) -> str:
        return "torch fp32"
