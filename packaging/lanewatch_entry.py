"""The frozen bundle's entry point: the same `lanewatch` as `uv run lanewatch`."""
import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()  # the ingest's row worker is a spawned process: in a bundle it re-enters here
    from ui.cli.main import main

    sys.exit(main())
