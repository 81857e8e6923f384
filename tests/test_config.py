from pathlib import Path

import pytest

from stiqa.config import Settings
from stiqa.embed import DEFAULT_MODEL


def test_defaults_need_no_environment():
    s = Settings.from_env({})
    assert (s.corpus_dir, s.index_dir, s.model, s.mode) == (Path("corpus"), Path("index"), DEFAULT_MODEL, "hybrid")
    assert not s.allow_download and s.host == "127.0.0.1"


def test_environment_overrides():
    s = Settings.from_env({
        "STIQA_CORPUS_DIR": "/data/docs", "STIQA_MODEL": "cl-nagoya/ruri-v3-30m", "STIQA_MODE": "dense",
        "STIQA_ALLOW_DOWNLOAD": "yes", "STIQA_PORT": "9000", "STIQA_MIN_EVIDENCE": "0.2",
    })
    assert s.corpus_dir == Path("/data/docs") and s.model == "cl-nagoya/ruri-v3-30m"
    assert s.mode == "dense" and s.allow_download and s.port == 9000 and s.min_evidence == 0.2


def test_bad_mode_is_refused():
    with pytest.raises(ValueError, match="mode must be one of dense, lexical, hybrid"):
        Settings.from_env({"STIQA_MODE": "semantic"})


def test_model_settings_from_the_environment():
    s = Settings.from_env({"STIQA_BACKEND": "torch", "STIQA_MODEL_CACHE": "/srv/models", "STIQA_THREADS": "3"})
    assert (s.backend, s.model_cache, s.threads) == ("torch", Path("/srv/models"), 3)
    d = Settings.from_env({})
    assert (d.backend, d.model_cache, d.threads) == ("auto", None, 0)
    with pytest.raises(ValueError, match="STIQA_THREADS cannot be negative"):
        Settings.from_env({"STIQA_THREADS": "-1"})
