"""Backends that run a sentence-transformers model folder: one module each, behind :class:`Backend`.

``onnx`` (ONNX Runtime, int8 where the CPU has the kernels) is the default;
``torch`` (float32) is the reference the other is measured against.
"""

from __future__ import annotations

from collections.abc import Callable

from stiqa.config import BACKEND_CHOICES, BACKENDS
from stiqa.model.backends.base import Backend, ModelFolder


def backend(name: str, progress: Callable[[str], None] | None = None) -> Backend:
    """The backend called ``name`` (one of :data:`BACKENDS`)."""
    if name == "onnx":
        from stiqa.model.backends.onnx_backend import OnnxBackend

        return OnnxBackend(progress=progress)
    if name == "torch":
        from stiqa.model.backends.torch_backend import TorchBackend

        return TorchBackend()
    raise ValueError(f"the model backend must be one of {', '.join(BACKENDS)}, not {name!r}")


__all__ = ["BACKENDS", "BACKEND_CHOICES", "Backend", "ModelFolder", "backend"]
