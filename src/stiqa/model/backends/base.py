"""What every backend does: run a sentence-transformers model folder behind the library's API."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the backends import it; the settings that name them need not
    from sentence_transformers import SentenceTransformer


@dataclass(frozen=True)
class ModelFolder:
    """A sentence-transformers model on disk, and where files made from it are kept."""

    path: Path
    derived: Path


class Backend(ABC):
    """Loads a :class:`ModelFolder` as a ``SentenceTransformer`` with the folder's prompts,
    pooling and normalisation, running its transformer in one engine or another."""

    name: str

    @abstractmethod
    def load(self, folder: ModelFolder, threads: int) -> SentenceTransformer:
        """The model, using ``threads`` cores for each call."""

    @abstractmethod
    def describe(self) -> str:
        """What runs the model, e.g. ``onnx int8 smoothed (avx512_vnni kernels)``: for health and logs."""
