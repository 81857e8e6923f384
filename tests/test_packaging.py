"""A plain `pip install .` (not editable) ships the web chat and the model's sample lines."""

import subprocess
import sys
import zipfile

import pytest

from stiqa.server.app import web_dir

from .conftest import ROOT


def test_the_chat_is_found_as_package_data():
    found = web_dir()
    assert found is not None and (found / "index.html").is_file() and (found / "app.js").is_file()


@pytest.mark.slow
def test_a_built_wheel_carries_the_chat_and_serves_it_from_where_it_is_installed(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", str(ROOT), "-w", str(tmp_path / "wheel")],
        check=True, capture_output=True, timeout=300,
    )
    wheel = next((tmp_path / "wheel").glob("stiqa-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"stiqa/web/index.html", "stiqa/web/app.js", "stiqa/web/style.css", "stiqa/model/calibration.txt"} <= names
    target = tmp_path / "installed"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
        check=True, capture_output=True, timeout=300,
    )
    code = "import stiqa.server.app as a; d = a.web_dir(); print(d, (d / 'index.html').is_file())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"}, cwd=tmp_path)
    assert out.stdout.strip() == f"{target / 'stiqa' / 'web'} True", out.stdout + out.stderr
