"""The `lanewatch` command: headless verbs stay free of Qt; no verb opens the console."""
from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from core import cli

    args = sys.argv[1:] if argv is None else argv
    parsed = cli.build_parser().parse_args(args)
    if parsed.verb is None and not parsed.demo:
        cli.build_parser().print_help()
        return 0
    if parsed.verb is None and parsed.demo:
        return cli.main(["demo"] + (["--db", parsed.db] if parsed.db else []))
    return cli.main(args)


if __name__ == "__main__":
    sys.exit(main())
