from pathlib import Path

import pytest

from stiqa.config import DEFAULT_MODEL, Settings


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
    with pytest.raises(ValueError, match="STIQA_MODE: Input should be .dense., .lexical. or .hybrid."):
        Settings.from_env({"STIQA_MODE": "semantic"})


def test_model_settings_from_the_environment():
    s = Settings.from_env({"STIQA_BACKEND": "torch", "STIQA_MODEL_CACHE": "/srv/models", "STIQA_THREADS": "3"})
    assert (s.backend, s.model_cache, s.threads) == ("torch", Path("/srv/models"), 3)
    d = Settings.from_env({})
    assert (d.backend, d.model_cache, d.threads) == ("auto", None, 0)
    with pytest.raises(ValueError, match="STIQA_THREADS: Input should be greater than or equal to 0"):
        Settings.from_env({"STIQA_THREADS": "-1"})


def test_the_readme_documents_every_setting():
    from stiqa.config import settings_table

    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    assert settings_table() in readme, "README's configuration table is stale: paste stiqa.config.settings_table()"


def test_a_bad_value_is_named_on_one_line():
    with pytest.raises(ValueError) as e:
        Settings.from_env({"STIQA_PORT": "eighty", "STIQA_CORS_ORIGINS": "http://a, http://b"})
    assert str(e.value) == "STIQA_PORT: Input should be a valid integer, unable to parse string as an integer (not 'eighty')"
    s = Settings.from_env({"STIQA_CORS_ORIGINS": "http://a, http://b", "STIQA_ALLOW_UPLOADS": "1"})
    assert s.cors_origins == ("http://a", "http://b") and s.allow_uploads


def test_changes_are_checked_again():
    s = Settings.from_env({})
    assert s.updated(port=9000, mode=None).port == 9000
    with pytest.raises(ValueError, match="STIQA_MODE"):
        s.updated(mode="semantic")
