"""The package layout shows the data path: no module imports from a stage downstream of it,
and the outside (server, CLI) reaches the stages through the service facade only."""

import ast
from pathlib import Path

import stiqa

ROOT = Path(stiqa.__file__).parent
FOUNDATION = {
    "stiqa", "stiqa.config", "stiqa.records", "stiqa.questions", "stiqa.contract", "stiqa.normalize", "stiqa.dates",
}
# What each part may import besides itself and the foundation.
ALLOWED = {
    "root": {"service"},  # `from stiqa import Assistant`, lazily
    "foundation": set(),
    "ingest": set(),
    "model": set(),
    "index": {"ingest", "model"},
    "qa": {"ingest", "model", "index"},
    "timeline": {"index"},
    "service": {"ingest", "model", "index", "qa", "timeline"},
    "server": {"ingest", "service"},
    "cluster": {"ingest", "model", "index", "service", "server"},  # Ray: imported only by `--ray` commands
    "client": set(),  # of a running server's HTTP API: standard library only
    "evaluation": {"service", "client"},
    "cli": {"ingest", "service", "server", "timeline", "evaluation", "client", "cluster"},
    "web": set(),
}


def part(module: str, importer: bool = False) -> str:
    if module == "stiqa" and importer:
        return "root"
    if module in FOUNDATION:
        return "foundation"
    return module.split(".")[1]


def test_the_client_imports_no_third_party_package():
    path = ROOT / "client.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert names <= {"__future__", "json", "urllib", "collections", "typing"}, names


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def imports(path: Path) -> set[str]:
    """Every stiqa module ``path`` imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "stiqa":
            assert node.level == 0, f"{path}: relative import"
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "stiqa")
    return found


def test_every_module_belongs_to_a_known_part():
    for path in ROOT.rglob("*.py"):
        assert part(module_name(path), importer=True) in ALLOWED, f"{module_name(path)} is in no stage; add it to the layout rules"


def test_no_module_imports_from_a_stage_downstream_of_it():
    wrong = []
    for path in ROOT.rglob("*.py"):
        here = part(module_name(path), importer=True)
        for target in imports(path):
            there = part(target)
            if there not in ({here, "foundation"} | ALLOWED[here]):
                wrong.append(f"{module_name(path)} imports {target}")
    assert not wrong, "\n".join(wrong)


def test_the_rules_catch_a_downstream_import(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from stiqa.server.app import create_app\n", encoding="utf-8")
    assert "stiqa.server.app" in imports(sample)
    assert "server" not in ALLOWED["qa"] | {"qa", "foundation"}


def test_ray_is_imported_by_the_cluster_package_only():
    for path in ROOT.rglob("*.py"):
        if part(module_name(path), importer=True) == "cluster":
            continue
        text = path.read_text(encoding="utf-8")
        assert "import ray" not in text and "from ray" not in text, f"{module_name(path)} imports Ray"
