"""All configuration in one place: defaults, overridden by STIQA_* environment variables and CLI flags."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from .model.backends import BACKEND_CHOICES
from .model.prepare import DEFAULT_MODEL

MODES = ("dense", "lexical", "hybrid")


def _env_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    value = env.get(name)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Settings:
    corpus_dir: Path = Path("corpus")
    index_dir: Path = Path("index")
    model: str = DEFAULT_MODEL
    query_prompt: str | None = None
    passage_prompt: str | None = None
    allow_download: bool = False
    # What runs the model: "onnx" (ONNX Runtime, int8 where the CPU has the kernels),
    # "torch" (the float32 reference), or "auto" (onnx for the default model, else torch).
    backend: str = "auto"
    model_cache: Path | None = None  # where models made or exported on this machine live (None: ~/.cache/stiqa/models)
    threads: int = 0  # cores the model uses for each call (0: all of them, shared out among --workers)
    lexical_mode: str = "A"
    mode: str = "hybrid"
    k: int = 5
    # Abstain below these evidence scores (answer.Evidence), for questions with and
    # without Japanese words; `python bench/calibrate.py` measures them and their margins.
    min_evidence: float = 0.1015
    min_evidence_other: float = 0.0419
    host: str = "127.0.0.1"
    port: int = 8000
    # Serving (stiqa.api): access control, limits, logging and the index's life cycle.
    api_key: str | None = None  # /api/* (except /api/health) then needs it
    cors_origins: tuple[str, ...] = ()  # origins allowed to call the API from a browser
    max_body_bytes: int = 65536
    # Managing documents over HTTP (POST/DELETE /api/documents): off unless asked for, so a
    # portal that only reads cannot be written to; an upload's body may be this large.
    allow_uploads: bool = False
    max_upload_bytes: int = 50 * 1024 * 1024
    rate_limit: str | None = None  # per client, e.g. "120/minute" (the `limits` notation)
    log_questions: bool = False  # put the question text in the request log
    watch_seconds: float = 1.0  # how often the server looks for a new index build (0: never)
    shutdown_seconds: float = 30.0  # how long in-flight requests may take to finish on shutdown

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        e = os.environ if env is None else env
        base = cls()
        s = replace(
            base,
            corpus_dir=Path(e.get("STIQA_CORPUS_DIR", base.corpus_dir)),
            index_dir=Path(e.get("STIQA_INDEX_DIR", base.index_dir)),
            model=e.get("STIQA_MODEL", base.model),
            query_prompt=e.get("STIQA_QUERY_PROMPT", base.query_prompt),
            passage_prompt=e.get("STIQA_PASSAGE_PROMPT", base.passage_prompt),
            allow_download=_env_bool(e, "STIQA_ALLOW_DOWNLOAD", base.allow_download),
            backend=e.get("STIQA_BACKEND", base.backend),
            model_cache=Path(e["STIQA_MODEL_CACHE"]) if e.get("STIQA_MODEL_CACHE") else base.model_cache,
            threads=int(e.get("STIQA_THREADS", base.threads)),
            mode=e.get("STIQA_MODE", base.mode),
            min_evidence=float(e.get("STIQA_MIN_EVIDENCE", base.min_evidence)),
            min_evidence_other=float(e.get("STIQA_MIN_EVIDENCE_OTHER", base.min_evidence_other)),
            host=e.get("STIQA_HOST", base.host),
            port=int(e.get("STIQA_PORT", base.port)),
            api_key=e.get("STIQA_API_KEY") or None,
            cors_origins=tuple(o.strip() for o in e.get("STIQA_CORS_ORIGINS", "").split(",") if o.strip()),
            max_body_bytes=int(e.get("STIQA_MAX_BODY_BYTES", base.max_body_bytes)),
            allow_uploads=_env_bool(e, "STIQA_ALLOW_UPLOADS", base.allow_uploads),
            max_upload_bytes=int(e.get("STIQA_MAX_UPLOAD_BYTES", base.max_upload_bytes)),
            rate_limit=e.get("STIQA_RATE_LIMIT") or None,
            log_questions=_env_bool(e, "STIQA_LOG_QUESTIONS", base.log_questions),
            watch_seconds=float(e.get("STIQA_WATCH_SECONDS", base.watch_seconds)),
            shutdown_seconds=float(e.get("STIQA_SHUTDOWN_SECONDS", base.shutdown_seconds)),
        )
        s.validate()
        return s

    def validate(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {self.mode!r}")
        if self.backend not in BACKEND_CHOICES:
            raise ValueError(f"STIQA_BACKEND must be one of {', '.join(BACKEND_CHOICES)}, not {self.backend!r}")
        if self.threads < 0:
            raise ValueError(f"STIQA_THREADS cannot be negative, not {self.threads}")
        if self.lexical_mode not in ("A", "B", "C"):
            raise ValueError(f"lexical_mode must be A, B or C, not {self.lexical_mode!r}")
        if self.max_body_bytes < 1024:
            raise ValueError(f"STIQA_MAX_BODY_BYTES must be at least 1024, not {self.max_body_bytes}")
        if self.max_upload_bytes < 1024:
            raise ValueError(f"STIQA_MAX_UPLOAD_BYTES must be at least 1024, not {self.max_upload_bytes}")
        if self.api_key is not None and len(self.api_key) < 16:
            raise ValueError("STIQA_API_KEY must be at least 16 characters long")
        if self.rate_limit is not None:
            from limits import parse

            try:
                parse(self.rate_limit)
            except ValueError as e:
                raise ValueError(
                    f"STIQA_RATE_LIMIT {self.rate_limit!r} is not a rate such as 120/minute"
                ) from e
        if self.watch_seconds < 0 or self.shutdown_seconds < 0:
            raise ValueError("STIQA_WATCH_SECONDS and STIQA_SHUTDOWN_SECONDS cannot be negative")
