"""Backends that run a sentence-transformers model folder: one module each, behind :class:`Backend`.

``onnx`` (ONNX Runtime, int8 where the CPU has the kernels) is the default;
``torch`` (float32) is the reference the other is measured against.
"""

from __future__ import annotations

from collections.abc import Callable

from .base import Backend, ModelFolder

BACKENDS = ("onnx", "torch")
BACKEND_CHOICES = ("auto", *BACKENDS)  # "auto": onnx for the default model, torch for others


def backend(name: str, progress: Callable[[str], None] | None = None) -> Backend:
    """The backend called ``name`` (one of :data:`BACKENDS`)."""
    if name == "onnx":
        from .onnx_backend import OnnxBackend

        return OnnxBackend(progress=progress)
    if name == "torch":
        from .torch_backend import TorchBackend

        return TorchBackend()
    raise ValueError(f"the model backend must be one of {', '.join(BACKENDS)}, not {name!r}")


__all__ = ["BACKENDS", "BACKEND_CHOICES", "Backend", "ModelFolder", "backend"]
