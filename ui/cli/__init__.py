"""The command line: `lanewatch VERB`, a front end beside the window. Never imports Qt, so
scripts start fast; `lanewatch` with no verb opens the window (ui.cli.main)."""
