"""The layers' rules (docs/architecture.md; DESIGN.md convention 1), as import-linter contracts
in pyproject.toml: core never imports Qt, the window or the command line; the command line
never imports Qt; only core.store speaks SQL; protocol modules never reach the store."""
import sys
from pathlib import Path

from importlinter import cli

ROOT = Path(__file__).resolve().parents[2]


def test_the_import_contracts_hold(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    monkeypatch.syspath_prepend(str(ROOT))
    code = cli.lint_imports(no_cache=True)
    out = capsys.readouterr().out
    assert code == 0, out[out.find("Broken contracts"):] or out
    assert "4 kept, 0 broken" in out


def test_a_contract_fails_when_broken(tmp_path, monkeypatch, capsys):
    """The contracts can fail: a copy of the tree with one forbidden import breaks one."""
    import shutil

    for part in ("core", "ui", "resources"):
        shutil.copytree(ROOT / part, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    with (tmp_path / "ui" / "views" / "grid.py").open("a") as f:
        f.write("\nfrom sqlalchemy import text  # noqa: E402,F401\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [str(tmp_path), *[p for p in sys.path if p != str(ROOT)]])
    for name in [m for m in sys.modules if m == "ui" or m.startswith(("ui.", "core.")) or m == "core"]:
        monkeypatch.delitem(sys.modules, name)
    assert cli.lint_imports(no_cache=True) == 1
    assert "ui.views.grid -> sqlalchemy" in capsys.readouterr().out
