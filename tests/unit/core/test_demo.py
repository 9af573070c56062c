"""The demo tells the truth: no future timestamps, no reused control IDs, NAKs whose faults
the message really has, and lab results that answer real orders of the same patient."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from core.demo import LiveFeed, workspace
from core.hl7.edit import get_value
from core.hl7.framing import MESSAGE, frame
from core.hl7.scan import scan
from core.ingest import Ingestor
from core.store import messages, trace
from core.store.messages import MessageFilter

NOW = datetime(2026, 11, 24, 12, 0)


def _messages(folder):
    for f in sorted(folder.rglob("*.hl7")):
        data = f.read_bytes()
        for p in frame(data)[0]:
            if p.kind == MESSAGE:
                yield data[p.start:p.end]


@pytest.fixture(scope="module")
def logs(tmp_path_factory):
    return workspace(tmp_path_factory.mktemp("demo"), 6000, now=NOW)


def test_nothing_is_stamped_in_the_future_not_even_the_live_feed(logs):
    times = [k["message_time"] for raw in _messages(logs) if (k := scan(raw))["message_time"]]
    assert max(times) <= NOW and max(times) > NOW - timedelta(minutes=5)
    feed = LiveFeed(logs)
    for n in range(5):
        feed.append(200, NOW + timedelta(seconds=n))
    live = [scan(raw)["message_time"] for raw in _messages(logs) if b"|" in raw]
    assert max(t for t in live if t) <= NOW + timedelta(seconds=4)


def test_control_ids_are_never_reused_by_the_live_feed(tmp_path):
    logs = workspace(tmp_path, 2000, now=NOW)
    before = {(k["sending_app"], k["control_id"]) for raw in _messages(logs) if (k := scan(raw))["control_id"]}
    LiveFeed(logs).append(500, NOW)
    live = set().union(*(_keys(f) for f in logs.rglob("live.hl7")))
    assert len(live) > 400 and not live & before


def _keys(path):
    data = path.read_bytes()
    return {(k["sending_app"], k["control_id"]) for p in frame(data)[0] if p.kind == MESSAGE
            and (k := scan(data[p.start:p.end]))["control_id"]}


def test_every_nak_names_a_fault_the_message_really_has(store, logs):
    Ingestor(store, now=lambda: NOW).ingest_paths([logs])
    naks = [m for m in messages.page(store, MessageFilter(acks=True), limit=100_000) if m["ack_code"] == "AE"]
    assert len(naks) > 10
    for ack in naks:
        original = messages.get(store, ack["answers_id"])
        text = original["raw"].decode()
        [err] = messages.get(store, ack["id"])["errors"]
        code = err["code"]
        if code == "101":
            assert not get_value(text, "PID-3")
        elif code == "102":
            assert " " in get_value(text, "OBR-7")
        elif code == "103":
            assert get_value(text, "ORC-12").startswith("1999999992")
        else:
            pytest.fail(f"an AE with code {code} names no fault")


def test_results_answer_real_orders_of_the_same_patient(store, logs):
    Ingestor(store, now=lambda: NOW).ingest_paths([logs])
    results = messages.page(store, MessageFilter(types=["ORU"], acks=False), limit=100_000)
    chained = 0
    statuses: set[tuple] = set()
    for r in results[:300]:
        t = trace.trace(store, r["id"])
        whats = [s.what for s in t.steps]
        if any(" order" in w for w in whats):
            chained += 1
            statuses.add(tuple(w.split("result: ")[1] for w in whats if "result: " in w))
        assert len({messages.get(store, s.message_id)["patient_id"] for s in t.steps
                    if not s.what.startswith("ACK")} - {None}) <= 1  # never two patients in one trace
    assert chained > 100
    assert ("preliminary", "final") in statuses and any("corrected" in s for s in statuses)


def test_the_portal_apps_day_is_read_against_the_demo_server(store, tmp_path):
    """The demo's HAR file against the demo's own endpoints: every exchange is the portal
    app's (not the backend service's on the same base), no token is kept, and the queue holds
    the refused, rate-limited and uncontracted writes in the server's words."""
    from core import demo_fhir
    from core.commands.context import Context
    from core.store import fhir, queue

    ctx = Context(store, now=lambda: NOW)
    server = demo_fhir.start(ctx)
    try:
        Ingestor(store, now=lambda: NOW).ingest_paths([demo_fhir.write_har(tmp_path, server, ctx)])
    finally:
        server.__exit__(None, None, None)
    every = fhir.exchanges(store, limit=10_000)
    assert {e["endpoint"] for e in every} == {"Patient portal app"} and {e["app"] for e in every} == {"portal-app"}
    assert max(e["message_time"] for e in every) <= NOW  # nothing in the future
    assert not any(b"eyJ" in messages.get(store, e["message_id"])["raw"] for e in every)
    failed = {e["status"] for e in fhir.exchanges(store, failed=True, limit=10_000)}
    assert failed == {412, 422, 429}
    flagged = [e for e in fhir.exchanges(store, flagged=True, limit=10_000) if e["ok"]]
    assert flagged and {e["resource_type"] for e in flagged} == {"MedicationRequest"}
    kinds = {i["kind"] for i in queue.items(store)}
    assert {"fhir_write_failed", "fhir_write_flagged"} <= kinds
