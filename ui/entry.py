"""The `lanewatch` command: headless verbs stay free of Qt; no verb opens the console."""
from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from core import cli

    args = sys.argv[1:] if argv is None else argv
    parsed = cli.build_parser().parse_args(args)
    if parsed.verb is None:
        from ui.app import run

        return run(parsed.db, parsed.demo)
    return cli.main(args)


if __name__ == "__main__":
    sys.exit(main())
