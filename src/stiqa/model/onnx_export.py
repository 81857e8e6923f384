"""A sentence-transformers model's transformer exported to ONNX, fused and quantised.

The transformer (the model folder's ``config.json`` and weights) is exported
with torch's ONNX exporter, its attention, GELU and layer norms fused by ONNX
Runtime's transformer optimiser, and quantised to int8 per channel (ONNX
Runtime's dynamic quantisation) for the kernel family of this CPU
(:mod:`stiqa.model.cpu`). Files follow sentence-transformers' naming:
``onnx/model.onnx`` (float32) and ``onnx/model_qint8_<kernel>.onnx``.
Each file is written under a temporary name and renamed, so a reader never
sees half of one.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import torch

from .cpu import AVX2
from .quiet import quiet

FP32_FILE = "model.onnx"
OPSET = 17
# Model types whose attention ONNX Runtime's optimiser fuses as BERT's.
BERT_LIKE = {"bert", "xlm-roberta", "roberta", "camembert", "electra"}

Progress = Callable[[str], None]


def onnx_file(kernel: str | None) -> str:
    """The file name of the model for ``kernel`` (None: float32)."""
    return FP32_FILE if kernel is None else f"model_qint8_{kernel}.onnx"


def ensure_onnx(folder: Path, onnx_dir: Path, kernel: str | None, progress: Progress | None = None) -> Path:
    """The ONNX file for ``kernel`` of the transformer in ``folder``, made if missing."""
    say = progress or (lambda _m: None)
    onnx_dir.mkdir(parents=True, exist_ok=True)
    fp32 = onnx_dir / FP32_FILE
    if not fp32.exists():
        say("exporting the model to ONNX")
        with quiet():
            _atomic(fp32, lambda tmp: export_fp32(folder, tmp))
    target = onnx_dir / onnx_file(kernel)
    if not target.exists():
        say(f"quantising it to int8 for {kernel} kernels")
        with quiet():
            _atomic(target, lambda tmp: quantize(fp32, tmp, kernel))
    return target


def _atomic(path: Path, write: Callable[[Path], None]) -> None:
    fd, name = tempfile.mkstemp(prefix=f".{path.name}-", suffix=".onnx", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        tmp.chmod(0o644)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def export_fp32(folder: Path, out: Path) -> None:
    """Export, then fuse where the model is BERT-like; token embeddings as the output."""
    from transformers import AutoConfig, AutoModel

    config = AutoConfig.from_pretrained(folder, local_files_only=True)
    model = AutoModel.from_pretrained(folder, local_files_only=True, attn_implementation="eager")
    wrapped = _TokenEmbeddings(model).eval()
    ids = torch.tensor([[0, 5, 6, 7, 2, 8], [0, 5, 6, 2, 1, 1]]) % config.vocab_size
    mask = torch.tensor([[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0]])
    axes = {0: "batch", 1: "tokens"}
    with torch.no_grad():
        torch.onnx.export(
            wrapped, (ids, mask), str(out),
            input_names=["input_ids", "attention_mask"], output_names=["token_embeddings"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_embeddings": axes},
            opset_version=OPSET, dynamo=False,
        )
    if config.model_type in BERT_LIKE:
        from onnxruntime.transformers.optimizer import optimize_model

        fused = optimize_model(
            str(out), model_type="bert", num_heads=config.num_attention_heads, hidden_size=config.hidden_size
        )
        fused.save_model_to_file(str(out))


class _TokenEmbeddings(torch.nn.Module):
    """The model's last hidden state, so the export has one output whatever the model returns."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state


def quantize(fp32: Path, out: Path, kernel: str | None) -> None:
    """Dynamic int8 quantisation per channel; 7-bit weights for AVX2 without VNNI.

    Two parts stay float32 (:func:`kept_float`): the embedding layer, which ONNX
    Runtime would quantise with one scale for the whole 250,000-row table (and its
    layer norm with it) while a lookup costs no arithmetic to keep exact; and the
    feed-forward down-projections, whose input, the GELU's output, is heavy-tailed,
    so one scale per tensor for it costs most of the remaining error. Measured on the
    deck and council minutes against float32: median cosine 0.9970 with everything
    quantised, 0.9992 without these, for a few percent of speed.
    """
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    if kernel is None:
        raise ValueError("float32 needs no quantisation")
    quantize_dynamic(
        fp32, out, weight_type=QuantType.QInt8, per_channel=True, reduce_range=kernel == AVX2,
        nodes_to_exclude=kept_float(onnx.load(str(fp32), load_external_data=False)),
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},  # the fused ops have no shape inference
    )


def kept_float(model) -> list[str]:
    """The nodes :func:`quantize` leaves in float32: embedding layers and the MatMuls that read a GELU's output."""
    nodes = model.graph.node
    gelu = {o for n in nodes if n.op_type in ("Gelu", "BiasGelu", "FastGelu") for o in n.output}
    return [
        n.name for n in nodes
        if n.op_type == "EmbedLayerNormalization" or (n.op_type == "MatMul" and n.input[0] in gelu)
    ]
