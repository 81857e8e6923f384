"""The default backend: the model's transformer in ONNX Runtime, int8 where the CPU has the kernels.

:class:`OnnxTransformer` takes the place of sentence-transformers' ``Transformer``
module (tokenise, run, hand token embeddings on); the folder's other modules
(pooling, normalisation) and prompts load as usual, so ``encode`` behaves the same
as with torch. Texts longer than the model's window (512 tokens for e5) are
truncated, as the ``Transformer`` module does.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import torch
from sentence_transformers import SentenceTransformer
from sentence_transformers.base.modules.input_module import InputModule
from sentence_transformers.models import Transformer
from sentence_transformers.util import import_from_string
from tokenizers import Tokenizer

from stiqa.model.backends.base import Backend, ModelFolder
from stiqa.model.cpu import int8_kernel
from stiqa.model.onnx_export import ensure_onnx, onnx_file


class OnnxTransformer(InputModule):
    """Tokenizer and transformer of a model folder, run by an ONNX Runtime session."""

    save_in_root = True

    def __init__(self, folder: Path, model_file: Path, threads: int, max_seq_length: int) -> None:
        super().__init__()
        self.model_file = model_file
        self.max_seq_length = max_seq_length
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_seq_length)
        self.pad_id = _pad_id(folder, self.tokenizer)
        self.threads = max(1, threads)
        # A lone text runs on every core; several run side by side, one core each (forward).
        # The sessions share the weights: the large ones are mapped from the model's data file.
        self.session = _session(model_file, self.threads)
        self.side_by_side = _session(model_file, 1) if self.threads > 1 else self.session
        self._runners = ThreadPoolExecutor(self.threads - 1, "stiqa-onnx") if self.threads > 1 else None
        self.inputs = {i.name for i in self.session.get_inputs()}
        self.hidden = int(self.session.get_outputs()[0].shape[-1])

    def preprocess(self, inputs: Sequence[str], prompt: str | None = None, **kwargs: Any) -> dict[str, Any]:
        texts = [(prompt or "") + str(t) for t in inputs]
        encodings = self.tokenizer.encode_batch(texts)
        width = max(len(e.ids) for e in encodings)
        ids = np.full((len(encodings), width), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(encodings), width), dtype=np.int64)
        for row, e in enumerate(encodings):
            ids[row, : len(e.ids)] = e.ids
            mask[row, : len(e.ids)] = 1
        return {"input_ids": torch.from_numpy(ids), "attention_mask": torch.from_numpy(mask)}

    def forward(self, features: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        """One session run per text, unpadded, on one core each, ``threads`` texts at once.

        One run per text: dynamic int8 quantisation scales the activations of each run as
        a whole, so in a batch a text's vector would depend on its neighbours and on
        padding; one at a time is also faster on CPU (45 passages/s against 31 in batches
        of 32). Side by side on one core each: a short text keeps two cores' threads
        waiting on each other between its small operations, so the cores do more work as
        runs of their own (questions/s with 8 clients in docs/performance.md). A lone
        text still gets every core, for its latency. Both sessions give the same vector.
        """
        ids = features["input_ids"].numpy()
        mask = features["attention_mask"].numpy()
        hidden = np.zeros((*ids.shape, self.hidden), dtype=np.float32)
        lengths = mask.sum(axis=1).tolist()

        session = self.session if len(lengths) == 1 else self.side_by_side

        def run(rows: range) -> None:
            for row in rows:
                n = lengths[row]
                feeds = {"input_ids": ids[row : row + 1, :n], "attention_mask": mask[row : row + 1, :n]}
                if "token_type_ids" in self.inputs:
                    feeds["token_type_ids"] = np.zeros_like(feeds["input_ids"])
                hidden[row, :n] = session.run(["token_embeddings"], feeds)[0][0]

        shares = [range(k, len(lengths), self.threads) for k in range(min(self.threads, len(lengths)))]
        others = [self._runners.submit(run, share) for share in shares[1:]] if self._runners else []
        run(shares[0])  # the calling thread takes a share too
        for done in others:
            done.result()
        features["token_embeddings"] = torch.from_numpy(hidden)
        return features

    def get_embedding_dimension(self) -> int:
        return self.hidden

    get_sentence_embedding_dimension = get_embedding_dimension

    def save(self, output_path: str, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError("save the model folder this module was loaded from instead")


def _session(model_file: Path, threads: int) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    if threads > 1:
        options.add_session_config_entry("session.force_spinning_stop", "1")
    return ort.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])


def _pad_id(folder: Path, tokenizer: Tokenizer) -> int:
    try:
        pad = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8")).get("pad_token")
    except (OSError, ValueError):
        pad = None
    if isinstance(pad, dict):
        pad = pad.get("content")
    found = tokenizer.token_to_id(pad) if isinstance(pad, str) else None
    return 0 if found is None else found


class OnnxBackend(Backend):
    """int8 with the kernels this CPU supports (:mod:`stiqa.model.cpu`), else float32."""

    name = "onnx"

    def __init__(self, kernel: str | None = None, progress: Callable[[str], None] | None = None) -> None:
        self.kernel = int8_kernel() if kernel is None else kernel
        self.progress = progress

    def describe(self) -> str:
        return f"onnx int8 smoothed ({self.kernel} kernels)" if self.kernel else "onnx fp32"

    def model_file(self, folder: ModelFolder) -> Path:
        """The folder's ONNX file for this CPU, exported into ``folder.derived`` if missing."""
        own = folder.path / "onnx" / onnx_file(self.kernel)
        if own.exists():
            return own
        return ensure_onnx(folder.path, folder.derived / "onnx", self.kernel, self.progress)

    def load(self, folder: ModelFolder, threads: int) -> SentenceTransformer:
        path = folder.path
        if not (path / "tokenizer.json").exists():
            raise ValueError(f"{path} has no tokenizer.json, which the onnx backend needs; use the torch backend")
        listed = json.loads((path / "modules.json").read_text(encoding="utf-8"))
        if not listed or not issubclass(import_from_string(listed[0]["type"]), Transformer):
            raise ValueError(f"{path} does not start with a Transformer module; use the torch backend")
        settings = read_json(path / "sentence_bert_config.json")
        modules: list[torch.nn.Module] = [
            OnnxTransformer(path, self.model_file(folder), threads, int(settings.get("max_seq_length") or 512))
        ]
        for entry in listed[1:]:
            module_class = import_from_string(entry["type"])
            modules.append(module_class.load(str(path), subfolder=entry.get("path", ""), local_files_only=True))
        config = read_json(path / "config_sentence_transformers.json")
        return SentenceTransformer(
            modules=modules, device="cpu", prompts=config.get("prompts") or None,
            default_prompt_name=config.get("default_prompt_name"),
        )


def read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
