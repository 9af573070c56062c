"""Flow aggregates, alerts and traces against figures worked out by hand on small traffic."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import update

from core import alerts
from core.commands.context import CommandError, Context
from core.hl7.ack import build
from core.ingest import Ingestor, utcnow
from core.store import alerts as store_alerts
from core.store import audit, flows, interfaces, messages, queue, trace
from core.store.models import Alert, QueueItem

A = Alert.__table__

T0 = datetime(2026, 11, 24, 9, 0)  # a Tuesday


def msg(cid: str, at: datetime, *, kind="ORM^O01^ORM_O01", placer="", filler="", status="", sender=("ECW", "NFM"),
        receiver=("QUEST", "QUEST_LAB"), visit="", patient="MRN1") -> bytes:
    text = (f"MSH|^~\\&|{sender[0]}|{sender[1]}|{receiver[0]}|{receiver[1]}|{at:%Y%m%d%H%M%S}||{kind}|{cid}|P|2.5.1\r"
            f"PID|1||{patient}^^^NFM^MR||DOE^JANE\r")
    if visit:
        text += f"PV1|1|O|||||||||||||||||{visit}\r"
    if kind.startswith("ORM"):
        text += f"ORC|NW|{placer}|{filler}\rOBR|1|{placer}|{filler}|GLU^Glucose\r"
    if kind.startswith("ORU"):
        text += f"OBR|1|{placer}|{filler}|GLU^Glucose|||||||||||||||||||||{status}\rOBX|1|NM|GLU||98\r"
    return text.encode()


def ack(original: bytes, code: str, cid: str, at: datetime) -> bytes:
    return build(original, code, "Provider not on file" if code != "AA" else None, control_id=cid,
                 timestamp=f"{at:%Y%m%d%H%M%S}")


@pytest.fixture
def traffic(store):
    """10 lab orders 09:00-09:09 (one a minute), answered 2 s later: 8 AA, 2 AE (at 09:03 and 09:07);
    one unparseable message; and an order chain with three results. Each arrives when it was sent,
    as a tap receives it."""
    for i in range(10):
        sent, answered = T0 + timedelta(minutes=i), T0 + timedelta(minutes=i, seconds=2)
        m = msg(f"O{i}", sent, placer=f"P{i}")
        Ingestor(store, now=lambda t=sent: t).ingest_messages("engine", [m], transport="mllp")
        Ingestor(store, now=lambda t=answered: t).ingest_messages(
            "engine", [ack(m, "AE" if i in (3, 7) else "AA", f"A{i}", answered)], transport="mllp")
    Ingestor(store, now=lambda: T0 + timedelta(minutes=10)).ingest_messages("engine", [b"MSH|broken"], transport="file")
    return store


def test_flow_map_counts_and_health(traffic):
    fm = flows.flow_map(traffic, T0, T0 + timedelta(hours=1))
    [orders] = [f for f in fm.flows if f.message_type == "ORM^O01"]
    assert (orders.messages, orders.naks, orders.missing, orders.unparseable) == (10, 2, 0, 0)
    assert orders.error_rate == 0.2 and orders.health == "bad"  # 20% > 5%
    assert orders.source == "ECW (NFM)" and orders.target == "QUEST (QUEST_LAB)"
    assert "ECW (NFM)" in fm.systems and "QUEST (QUEST_LAB)" in fm.systems
    quiet = flows.flow_map(traffic, T0 + timedelta(minutes=5), T0 + timedelta(minutes=6))
    assert [f.messages for f in quiet.flows if f.message_type == "ORM^O01"] == [1]


def test_series_per_minute(traffic):
    s = flows.series(traffic, T0, T0 + timedelta(minutes=12), interface_id=None, message_type="ORM^O01")
    assert s.messages == [1] * 10 + [0, 0]
    assert s.errors == [0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0]
    assert s.latency_p50 == [2.0] * 10 + [None, None] and s.latency_p95 == s.latency_p50
    # the two NAKs are queued at the NAKs' own times (09:03:02, 09:07:02), not at ingest (09:10)
    assert s.queue_depth == [0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 2]
    everything = flows.series(traffic, T0, T0 + timedelta(minutes=12))
    assert everything.queue_depth[-1] == 3  # and the unparseable message's item


def test_board(traffic):
    rows = {r["interface"]: r for r in flows.board(traffic, T0 + timedelta(minutes=30))}
    row = rows["ECW → QUEST"]
    assert (row["first_seen"], row["last_seen"], row["today"]) == (T0, T0 + timedelta(minutes=9), 10)
    assert row["ack_coverage"] == 1.0 and row["error_rate"] == 0.2 and row["open_items"] == 2
    assert row["silence_s"] == 21 * 60
    assert flows.board_csv([row]).splitlines()[1].startswith("ECW → QUEST,2026-11-24 09:00:00,2026-11-24 09:09:00,10,1.000,0.200,2,1260")


def test_alert_rules_raise_clear_and_acknowledge(traffic):
    ctx = Context(traffic, actor="alice@ws1", now=lambda: T0 + timedelta(minutes=10))
    iface = next(r["id"] for r in interfaces.overview(traffic) if r["name"] == "ECW → QUEST")
    alerts.add_rule(ctx, "error_rate", 10, interface_id=iface, window_min=15)
    alerts.add_rule(ctx, "nak_burst", 3, interface_id=iface, window_min=15)
    alerts.add_rule(ctx, "queue_depth", 1, interface_id=iface)
    alerts.add_rule(ctx, "silence", 20, interface_id=iface)  # any time of day
    alerts.add_rule(ctx, "ack_latency", 1.5, interface_id=iface, window_min=15)
    change = alerts.evaluate(traffic, T0 + timedelta(minutes=10))
    fired = {a["text"].split(": ", 1)[1] for a in change.raised}
    assert fired == {"20.0% errors over the last 15 minutes (2 of 10; limit 10%)", "2 open queue items (limit 1)",
                     "ACK latency p95 2.0 s over the last 15 minutes (limit 1.5 s)"}
    assert not alerts.evaluate(traffic, T0 + timedelta(minutes=10)).raised  # raised once, not again
    later = alerts.evaluate(traffic, T0 + timedelta(minutes=40))  # silent 31 min; the windows are empty now
    assert [a["text"].split(": ", 1)[1] for a in later.raised] == ["nothing received for 31 minutes (limit 20)"]
    assert not later.cleared  # false once is not enough: it must stay false for CLEAR_AFTER
    cleared = alerts.evaluate(traffic, T0 + timedelta(minutes=40) + alerts.CLEAR_AFTER).cleared
    assert {c["text"].split(": ", 1)[1].split(" over")[0] for c in cleared} == {"20.0% errors", "ACK latency p95 2.0 s"}
    [silent] = [a for a in store_alerts.active(traffic) if a["kind"] == "silence"]
    alerts.acknowledge(ctx, silent["id"], "the lab is closed for a software upgrade")
    with pytest.raises(CommandError, match="acknowledged already"):
        alerts.acknowledge(ctx, silent["id"])
    assert audit.page(traffic, action="acknowledge_alert")[0]["actor"] == "alice@ws1"


def test_business_hours_and_bad_rules(traffic):
    ctx = Context(traffic, now=lambda: T0)
    with pytest.raises(CommandError, match="HH:MM-HH:MM"):
        alerts.add_rule(ctx, "silence", 5, hours="9 to 5")
    with pytest.raises(CommandError, match="alert kind"):
        alerts.add_rule(ctx, "vibes", 5)
    alerts.add_rule(ctx, "silence", 5, weekdays="67")  # weekends only: Tuesday stays quiet
    assert not alerts.evaluate(traffic, T0 + timedelta(hours=3)).raised


def test_trace_of_an_order_with_several_results(store):
    order = msg("O1", T0, placer="PL1")
    raws = [order, ack(order, "AA", "A1", T0 + timedelta(seconds=3)),
            msg("R1", T0 + timedelta(hours=2), kind="ORU^R01^ORU_R01", placer="PL1", filler="FL1", status="P"),
            msg("R2", T0 + timedelta(hours=5), kind="ORU^R01^ORU_R01", filler="FL1", status="F", sender=("QUEST", "QUEST_LAB"),
                receiver=("ECW", "NFM")),
            msg("R3", T0 + timedelta(days=1), kind="ORU^R01^ORU_R01", filler="FL1", status="C", sender=("QUEST", "QUEST_LAB"),
                receiver=("ECW", "NFM")),
            msg("X9", T0, placer="OTHER")]
    ids = Ingestor(store).ingest_messages("engine", raws, transport="file")
    for start in (ids[0], ids[1], ids[3], ids[4]):  # from any message of the chain, an ACK included
        t = trace.trace(store, start)
        assert t.kind == "order" and [s.what for s in t.steps] == [
            "ORM^O01 order (NW)", "ACK AA", "ORU^R01 result: preliminary", "ORU^R01 result: final",
            "ORU^R01 result: corrected"]
    assert t.turnarounds == {"order → ACK": timedelta(seconds=3), "order → preliminary result": timedelta(hours=2),
                             "order → final result": timedelta(hours=5), "order → corrected result": timedelta(days=1)}
    assert t.key == "placer PL1; filler FL1"


def test_trace_never_joins_two_patients_or_other_systems(store):
    """Placer numbers repeat: the same number for other patients, or between other systems, is
    left out and said, never merged into this order."""
    lab = dict(kind="ORU^R01^ORU_R01", sender=("QUEST", "QUEST_LAB"), receiver=("ECW", "NFM"))
    raws = [msg("O1", T0, placer="100"),
            msg("R1", T0 + timedelta(hours=1), placer="100", filler="F1", status="F", **lab),
            msg("R2", T0 + timedelta(hours=1), placer="100", filler="F2", status="F", patient="MRN2", **lab),
            msg("R3", T0 + timedelta(hours=2), placer="100", filler="F3", status="F", patient="MRN3", **lab),
            msg("R4", T0 + timedelta(hours=2), placer="100", filler="F4", status="F", kind="ORU^R01^ORU_R01",
                sender=("LABCORP", "LC"), receiver=("ECW", "NFM"))]
    ids = Ingestor(store).ingest_messages("engine", raws, transport="file")
    t = trace.trace(store, ids[0])
    assert [s.message_id for s in t.steps] == ids[:2]
    assert t.key == "placer 100; filler F1"
    assert t.notes == ["3 other messages carry the same order number for another patient or between other systems: "
                       "not part of this order."]
    other = trace.trace(store, ids[2])
    assert [s.message_id for s in other.steps] == [ids[2]]  # patient 2's result is its own


def test_trace_of_a_visit(store):
    raws = [msg(f"V{i}", T0 + timedelta(hours=i), kind=f"ADT^{e}^ADT_A01", visit=v, sender=("EPIC", "HOSP"),
                receiver=("ECW", "NFM")) for i, (e, v) in enumerate([("A04", "VN1"), ("A08", "VN1"), ("A03", "VN1"),
                                                                     ("A04", "VN2")])]
    ids = Ingestor(store).ingest_messages("engine", raws, transport="file")
    t = trace.trace(store, ids[1])
    assert t.kind == "visit" and [s.what for s in t.steps] == ["ADT^A04", "ADT^A08", "ADT^A03"]
    assert t.key == "patient MRN1, visit VN1" and t.turnarounds == {"first → last": timedelta(hours=2)}
    assert t.identifiers == ["MRN1", "VN1"]


def test_trace_over_the_corpus_results(store, corpora):
    folder = corpora / "hl7v2" / "microsoft-fhir-converter"
    Ingestor(store).ingest_paths([p for p in sorted(folder.iterdir()) if p.name.startswith("ORU")])
    results = messages.page(store, messages.MessageFilter(types=["ORU"], acks=False), limit=100)
    assert results
    for r in results:
        t = trace.trace(store, r["id"])
        assert r["id"] in [s.message_id for s in t.steps]
        assert any("result:" in s.what for s in t.steps)


def test_headless_flows_board_trace_and_alerts(capsys, tmp_path):
    import json

    from core.store.db import open_store
    from tests.helpers.cli import run

    url = f"sqlite:///{tmp_path / 's.db'}"
    store = open_store(url)
    now = utcnow().replace(microsecond=0) - timedelta(minutes=1)
    order = msg("O1", now, placer="PL9")
    ids = Ingestor(store).ingest_messages("engine", [order, ack(order, "AE", "A1", now)], transport="mllp")
    store.close()
    code, out, _ = run(capsys, url, "alerts", "add-rule", "nak_burst", "1", "--window", "1440")
    assert code == 0 and out == "rule 1 added\n"
    code, out, _ = run(capsys, url, "alerts", "--json")
    [alert] = [json.loads(line) for line in out.splitlines()]
    assert code == 4 and alert["state"] == "open" and "1 NAKs" in alert["text"]
    code, out, _ = run(capsys, url, "alerts", "ack", str(alert["id"]), "--note", "vendor knows")
    assert code == 0
    code, out, _ = run(capsys, url, "alerts")
    assert code == 0 and "acknowledged" in out
    code, out, _ = run(capsys, url, "board", "--csv")
    assert out.splitlines()[0].startswith("interface,first_seen") and "ECW → QUEST" in out
    code, out, _ = run(capsys, url, "trace", str(ids[1]), "--json")
    assert [s["what"] for s in json.loads(out)["steps"]] == ["ORM^O01 order (NW)", "ACK AE"]
    code, out, _ = run(capsys, url, "flows")
    assert "ECW (NFM) → QUEST (QUEST_LAB) ORM^O01: 1 messages, 1 NAKs" in out


def test_silence_and_the_board_measure_arrival_not_the_senders_clock(store):
    """Two messages just received whose MSH-7 is 286 minutes old (a sender's clock, or a backlog
    replayed): nothing is silent; the table still shows their own time."""
    now = T0 + timedelta(minutes=286)
    raws = [msg(f"S{i}", T0 + timedelta(seconds=i)) for i in range(2)]
    Ingestor(store, now=lambda: now).ingest_messages("engine", raws, transport="file")
    ctx = Context(store, now=lambda: now)
    iface = next(r["id"] for r in interfaces.overview(store) if r["name"] == "ECW → QUEST")
    alerts.add_rule(ctx, "silence", 20, interface_id=iface)
    assert not alerts.evaluate(store, now + timedelta(minutes=1)).raised
    [row] = [r for r in flows.board(store, now + timedelta(minutes=1)) if r["interface_id"] == iface]
    assert row["last_seen"] == now and row["silence_s"] == 60 and row["today"] == 2
    assert {m["message_time"] for m in messages.page(store, messages.MessageFilter(), limit=5)} == \
        {T0, T0 + timedelta(seconds=1)}


def test_queue_items_carry_the_time_of_the_failure(store):
    order = msg("F1", T0)
    nak_at = T0 + timedelta(seconds=5)
    Ingestor(store, now=lambda: T0 + timedelta(hours=3)).ingest_messages(
        "engine", [order, ack(order, "AE", "N1", nak_at)], transport="file")
    [item] = queue.items(store, kinds=["nak_error"])
    assert item["created_at"] == nak_at


def test_an_alert_at_its_threshold_neither_flaps_nor_repeats(traffic):
    """The condition goes true, false, true, false every two minutes: one alert, still open;
    two evaluators at once: one row."""
    import threading

    ctx = Context(traffic, now=lambda: T0)
    iface = next(r["id"] for r in interfaces.overview(traffic) if r["name"] == "ECW → QUEST")
    rule = alerts.add_rule(ctx, "queue_depth", 1, interface_id=iface)
    raised = cleared = 0
    for step in range(8):
        with traffic.begin() as conn:  # the depth wobbles around the limit as items are worked
            conn.execute(update(QueueItem.__table__).where(QueueItem.kind == "nak_error")
                         .values(triage_state="open" if step % 2 == 0 else "acknowledged"))
        change = alerts.evaluate(traffic, T0 + timedelta(minutes=20 + 2 * step))
        raised, cleared = raised + len(change.raised), cleared + len(change.cleared)
    assert (raised, cleared) == (1, 0)
    with traffic.begin() as conn:
        conn.execute(update(A).values(state="cleared"))  # start afresh: four evaluators race to raise it
        conn.execute(update(QueueItem.__table__).where(QueueItem.kind == "nak_error").values(triage_state="open"))
    threads = [threading.Thread(target=alerts.evaluate, args=(traffic, T0 + timedelta(minutes=40))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len([a for a in store_alerts.active(traffic) if a["rule_id"] == rule]) == 1


def test_rules_are_edited_switched_and_deleted_headless_and_audited(capsys, tmp_path):
    import json

    from tests.helpers.cli import run

    url = f"sqlite:///{tmp_path / 's.db'}"
    code, out, _ = run(capsys, url, "--init", "alerts", "add-rule", "silence", "10", "--hours", "07:00-19:00")
    rule = int(out.split()[1])
    assert run(capsys, url, "alerts", "set-rule", str(rule), "25", "--window", "30")[0] == 0
    assert run(capsys, url, "alerts", "disable-rule", str(rule))[1].startswith(f"rule {rule}: off, limit 25, window 30 min")
    code, out, err = run(capsys, url, "alerts", "set-rule", str(rule), "--hours", "9 to 5")
    assert code == 1 and "HH:MM-HH:MM" in err
    assert run(capsys, url, "alerts", "delete-rule", str(rule))[0] == 0
    code, out, _ = run(capsys, url, "audit", "list", "--json")
    actions = [json.loads(line)["action"] for line in out.splitlines()]
    assert actions[:4] == ["delete_alert_rule", "change_alert_rule", "change_alert_rule", "add_alert_rule"]
    assert run(capsys, url, "alerts", "delete-rule", str(rule))[0] == 1  # gone: said in one line
    code, out, _ = run(capsys, url, "alerts", "add-rule", "field_drift", "2", "--path", "PV1-3", "--window", "60")
    assert code == 0
    code, out, err = run(capsys, url, "alerts", "add-rule", "field_drift", "2")
    assert code == 1 and "watches a field path (--path" in err and "Traceback" not in err
    assert "> 2 new values of PV1-3" in run(capsys, url, "alerts", "rules")[1]


def test_a_backlog_read_now_raises_no_rate_alert_but_live_naks_do(store):
    now = T0 + timedelta(days=1)
    old = [m for i in range(5) for m in (msg(f"B{i}", T0 + timedelta(minutes=i)),
                                          ack(msg(f"B{i}", T0 + timedelta(minutes=i)), "AE", f"BA{i}", T0 + timedelta(minutes=i)))]
    Ingestor(store, now=lambda: now).ingest_messages("archive", old, transport="file")  # yesterday's log, read now
    ctx = Context(store, now=lambda: now)
    iface = next(r["id"] for r in interfaces.overview(store) if r["name"] == "ECW → QUEST")
    alerts.add_rule(ctx, "nak_burst", 3, interface_id=iface, window_min=15)
    assert not alerts.evaluate(store, now).raised
    live = [m for i in range(5) for m in (msg(f"L{i}", now - timedelta(minutes=1)),
                                           ack(msg(f"L{i}", now - timedelta(minutes=1)), "AE", f"LA{i}", now))]
    Ingestor(store, now=lambda: now).ingest_messages("tap", live, transport="mllp")
    assert [a["text"].split(": ", 1)[1] for a in alerts.evaluate(store, now).raised] == [
        "5 NAKs in the last 15 minutes (limit 3)"]


def _result(cid: str, at: datetime, code: str, patient: str = "DOE") -> bytes:
    return (f"MSH|^~\\&|QUEST|QUEST_LAB|ECW|NFM|{at:%Y%m%d%H%M%S}||ORU^R01^ORU_R01|{cid}|P|2.5.1\r"
            f"PID|1||MRN1^^^NFM^MR||{patient}^JANE\rOBR|1|P1|F1|GLU^Glucose\rOBX|1|NM|{code}^Test||98\r").encode()


def test_field_drift_raises_on_values_first_seen_in_its_window(store, monkeypatch):
    now = T0 + timedelta(days=1)
    old = [_result(f"R{i}", T0 + timedelta(minutes=i), ("GLU", "NA", "K")[i % 3]) for i in range(12)]
    Ingestor(store, now=lambda: now).ingest_messages("lab", old, transport="file")
    ctx = Context(store, now=lambda: now)
    iface = next(r["id"] for r in interfaces.overview(store) if r["name"] == "QUEST → ECW")
    with pytest.raises(CommandError, match="watches a field path"):
        alerts.add_rule(ctx, "field_drift", 1, interface_id=iface)
    with pytest.raises(CommandError, match="no other kind takes one"):
        alerts.add_rule(ctx, "nak_burst", 1, path="OBX-3")
    with pytest.raises(CommandError, match="The field path"):
        alerts.add_rule(ctx, "field_drift", 1, path="OBX[-3")
    monkeypatch.setattr(alerts, "DRIFT_READ", 5)  # read a batch at each evaluation
    alerts.add_rule(ctx, "field_drift", 1, interface_id=iface, window_min=60, path="obx[*]-3.1")
    alerts.add_rule(ctx, "field_drift", 1, interface_id=iface, window_min=60, path="PID-5.1")
    for _ in range(3):  # 12 old messages, 5 at a time: nothing judged until all are read
        assert not alerts.evaluate(store, now).raised
    new = [_result("R20", now - timedelta(minutes=5), "TROP", "ROE"), _result("R21", now - timedelta(minutes=4), "GLU")]
    Ingestor(store, now=lambda: now).ingest_messages("lab", new, transport="file")
    raised = sorted(a["text"].split(": ", 1)[1] for a in alerts.evaluate(store, now).raised)
    assert raised == ["1 value of OBX[*]-3.1 first seen in the last 60 minutes (limit 1): TROP",
                      "1 value of PID-5.1 first seen in the last 60 minutes (limit 1): the values are not shown: "
                      "PID-5.1 identifies patients"]
    later = now + timedelta(hours=2)  # out of the window: no longer new, and the alert clears
    alerts.evaluate(store, later)
    cleared = alerts.evaluate(store, later + alerts.CLEAR_AFTER + timedelta(seconds=1)).cleared
    assert len(cleared) == 2 and not store_alerts.active(store)
