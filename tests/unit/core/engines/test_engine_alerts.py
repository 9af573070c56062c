"""Engine channels as alert inputs: queued above N, errors rising, a channel stopped or paused."""
from __future__ import annotations

from datetime import datetime, timedelta

from core import alerts
from core.commands.context import Context
from core.commands.engines import PollEngines
from core.engines.loopback import LoopbackEngine, demo_channels
from tests.helpers.engines import add_engine

T0 = datetime(2026, 12, 1, 9, 0)


def test_channel_rules_fire_on_what_the_engine_says(store):
    clock = {"now": T0}
    ctx = Context(store, now=lambda: clock["now"])
    channels = demo_channels()
    with LoopbackEngine(channels) as server:
        add_engine(store, server)
        for kind, threshold in (("engine_queued", 2), ("engine_errors", 5), ("channel_stopped", 10)):
            alerts.add_rule(ctx, kind, threshold, window_min=60)
        PollEngines(ctx).run()
        raised = alerts.evaluate(store, clock["now"]).raised
        assert [a["text"] for a in raised] == ["ECW lab orders to Quest · mirth: 3 messages queued in the engine (limit 2)"]
        clock["now"] = T0 + timedelta(minutes=20)
        channels[1].size = 600  # traffic goes on, and the lab's link fails as often as before
        PollEngines(ctx).run()
        texts = sorted(a["text"] for a in alerts.evaluate(store, clock["now"]).raised)
    assert texts == ["CCD documents to HIE · mirth: the channel is stopped in the engine for 20 minutes",
                     "ECW lab orders to Quest · mirth: 21 more errors in the engine over the last 60 minutes (limit 5)",
                     "Immunizations to state IIS · mirth: the channel is paused in the engine for 20 minutes"]
