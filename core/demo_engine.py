"""The demo workspace's engine: a loopback Mirth-shaped engine (core.engines.loopback) with
four channels (an ADT feed, lab orders whose link fails now and then, a paused immunisation
channel with a filter, a stopped document channel), configured as a practice would, with
writes on so reprocessing can be tried, alert rules for its channels, and a first poll.

Its password lives in memory (core.secrets.use_memory): the demo never writes to the OS keyring.
"""
from __future__ import annotations

from datetime import timedelta

from core import alerts, secrets
from core.commands.context import Context
from core.commands.engines import ConfigureEngine, PollEngines
from core.engines.loopback import LoopbackEngine, demo_channels

NAME = "Mirth (demo)"
LAST = timedelta(minutes=2)  # the demo channels' last messages came this long ago


def start(ctx: Context) -> LoopbackEngine:
    secrets.use_memory()
    server = LoopbackEngine(demo_channels(end=ctx.now() - LAST), password="demo-password").start()
    ConfigureEngine(ctx).run(NAME, password="demo-password", url=server.url, username="admin", write_enabled=True, rate=0)
    for kind, threshold, window in (("engine_queued", 2, 15), ("engine_errors", 5, 60), ("channel_stopped", 10, 15)):
        alerts.add_rule(ctx, kind, threshold, window_min=window)
    PollEngines(ctx).run([NAME])
    return server
