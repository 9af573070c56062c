"""Running a verb as a script would, through the real entry point."""
from __future__ import annotations

from ui.cli import main as cli


def run(capsys, url, *args):
    code = cli.main(["--db", url, *args])
    out = capsys.readouterr()
    return code, out.out, out.err
