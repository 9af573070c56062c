"""DESIGN.md convention 1: core/ never imports Qt (nor pyqtgraph, which pulls it in)."""
import ast
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "core"
BANNED = ("PySide6", "shiboken6", "pyqtgraph", "ui")


def test_core_never_imports_qt_or_ui():
    offenders = []
    for path in CORE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.relative_to(CORE.parent)}: {n}" for n in names if n.split(".")[0] in BANNED]
    assert offenders == []
