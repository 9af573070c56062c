"""Delivery tracking in the store (SQLite and PostgreSQL): MDNs and DSNs paired to their
message per recipient in either order of arrival, failures and timeouts queued in the
receiver's words and grouped, late notices counted, mail folders and mboxes resumable."""
from __future__ import annotations

from datetime import datetime, timedelta

from core.ingest import Ingestor
from core.store import direct, messages, queue
from core.vocabulary import Disposition, QueueKind, TriageState
from tests.helpers.direct import dsn, mbox, mdn, message

T0 = datetime(2026, 12, 1, 9, 0)
SENDER = "referrals@direct.ourclinic.example"
CARD, ORTHO = "intake@direct.cardiology.example", "frontdesk@direct.ortho.example"


def ingest(store, tmp_path, files: dict[str, bytes], now: datetime):
    for name, raw in files.items():
        (tmp_path / name).write_bytes(raw)
    return Ingestor(store, now=lambda: now).ingest_paths([tmp_path / n for n in files])


def states(store) -> dict[str, str]:
    return {d["recipient"]: d["state"] for d in direct.deliveries(store)}


def test_each_recipient_is_tracked_from_sent_to_dispatched(store, tmp_path):
    ingest(store, tmp_path, {"ref.eml": message("r1@ourclinic", SENDER, [CARD, ORTHO], T0, dispatched=True)},
           T0 + timedelta(minutes=1))
    assert states(store) == {CARD: Disposition.SENT, ORTHO: Disposition.SENT}
    ingest(store, tmp_path, {"m1.eml": mdn("m1@card", "r1@ourclinic", CARD, SENDER, T0 + timedelta(minutes=2)),
                             "m2.eml": mdn("m2@card", "r1@ourclinic", CARD, SENDER, T0 + timedelta(minutes=9),
                                           "dispatched", final=True)}, T0 + timedelta(minutes=10))
    assert states(store) == {CARD: Disposition.DISPATCHED, ORTHO: Disposition.SENT}
    [card] = [d for d in direct.deliveries(store) if d["recipient"] == CARD]
    assert (card["processed_at"], card["dispatched_at"]) == (T0 + timedelta(minutes=2), T0 + timedelta(minutes=9))
    original = card["message_id"]
    detail = direct.mail(store, original)
    assert [t["notices"][0]["disposition"] for t in detail["timeline"]] == ["processed", "dispatched"]
    answered = [r for r in messages.page(store, messages.MessageFilter(), limit=10) if r["message_type"] == "MDN"]
    assert {r["answers_id"] for r in answered} == {original} and all(r["is_ack"] for r in answered)


def test_a_notice_that_comes_before_its_message_is_paired_when_it_arrives(store, tmp_path):
    ingest(store, tmp_path, {"early.eml": mdn("m1@card", "r2@ourclinic", CARD, SENDER, T0 + timedelta(minutes=1))},
           T0 + timedelta(minutes=2))
    [waiting] = direct.unpaired(store)
    assert waiting["why"] == "the message it answers is not in this store"
    ingest(store, tmp_path, {"ref.eml": message("r2@ourclinic", SENDER, [CARD], T0)}, T0 + timedelta(minutes=3))
    assert states(store) == {CARD: Disposition.PROCESSED} and direct.unpaired(store) == []


def test_failures_are_queued_in_the_receivers_words_and_grouped(store, tmp_path):
    files = {f"ref{i}.eml": message(f"r{i}@ourclinic", SENDER, [ORTHO], T0) for i in range(3)}
    files |= {f"dsn{i}.eml": dsn(f"d{i}@hisp", f"r{i}@ourclinic", ORTHO, SENDER, T0 + timedelta(minutes=1),
                                 f"smtp; 550 5.1.1 <{ORTHO}> mailbox unavailable (ref {1000 + i})") for i in range(2)}
    files["fail.eml"] = mdn("f2@ortho", "r2@ourclinic", ORTHO, SENDER, T0 + timedelta(minutes=1), "failed",
                            failure="certificate for ourclinic.example is not trusted")
    ingest(store, tmp_path, files, T0 + timedelta(minutes=5))
    assert sorted(states_list(store)) == ["delivery_failed", "delivery_failed", "failed"]
    undelivered = queue.items(store, kinds=[QueueKind.DIRECT_UNDELIVERED])
    assert len(undelivered) == 2 and len({i["signature"] for i in undelivered}) == 1  # ids stripped: one group
    assert "550 5.1.1" in undelivered[0]["reason"] and undelivered[0]["reason"].startswith(ORTHO)
    [failed] = queue.items(store, kinds=[QueueKind.DIRECT_FAILED])
    assert "certificate for ourclinic.example is not trusted" in failed["reason"]


def states_list(store) -> list[str]:
    return [d["state"] for d in direct.deliveries(store)]


def test_no_mdn_in_time_is_a_timeout_and_a_late_one_settles_it(store, tmp_path):
    ingest(store, tmp_path, {"ref.eml": message("r3@ourclinic", SENDER, [CARD, ORTHO], T0, dispatched=True)},
           T0 + timedelta(minutes=1))
    ingest(store, tmp_path, {"m.eml": mdn("m3@ortho", "r3@ourclinic", ORTHO, SENDER, T0 + timedelta(minutes=5))},
           T0 + timedelta(hours=2))
    assert states(store) == {CARD: Disposition.TIMED_OUT, ORTHO: Disposition.PROCESSED}
    [late] = queue.items(store, kinds=[QueueKind.DIRECT_TIMED_OUT])
    assert late["reason"] == f"{CARD}: no processed MDN from {CARD} within 1 hour of sending."
    ingest(store, tmp_path, {"late.eml": mdn("m4@card", "r3@ourclinic", CARD, SENDER, T0 + timedelta(hours=3))},
           T0 + timedelta(hours=3))
    [late] = queue.items(store, kinds=[QueueKind.DIRECT_TIMED_OUT])
    assert states(store)[CARD] == Disposition.PROCESSED and late["triage_state"] == TriageState.RESOLVED
    Ingestor(store, now=lambda: T0 + timedelta(hours=25)).sweep()  # asked for dispatched, got only processed
    assert states(store) == {CARD: Disposition.TIMED_OUT, ORTHO: Disposition.TIMED_OUT}
    assert sum("no dispatched MDN within 24 hours" in i["reason"] for i in queue.items(store, kinds=[QueueKind.DIRECT_TIMED_OUT])) == 2
    assert not queue.items(store, kinds=[QueueKind.MISSING_ACK])  # one fault, one item: not HL7's "ACK missing" too


def test_a_malformed_notice_is_queued_not_dropped(store, tmp_path):
    raw = mdn("m5@card", "r5@ourclinic", CARD, SENDER, T0).replace(b"Disposition: automatic", b"X-Gone: automatic")
    ingest(store, tmp_path, {"ref.eml": message("r5@ourclinic", SENDER, [CARD], T0), "bad.eml": raw}, T0)
    [item] = queue.items(store, kinds=[QueueKind.DIRECT_MALFORMED])
    assert "no Disposition" in item["reason"] and states(store) == {CARD: Disposition.SENT}


def test_an_mbox_is_read_on_as_it_grows_with_nothing_twice(store, tmp_path):
    box = tmp_path / "hisp.mbox"
    box.write_bytes(mbox(message("r6@ourclinic", SENDER, [CARD], T0)))
    Ingestor(store, now=lambda: T0).ingest_paths([box])
    with open(box, "ab") as f:
        f.write(mbox(mdn("m6@card", "r6@ourclinic", CARD, SENDER, T0 + timedelta(minutes=1))))
    summary = Ingestor(store, now=lambda: T0 + timedelta(minutes=2)).ingest_paths([box])
    assert summary.messages == 1 and states(store) == {CARD: Disposition.PROCESSED}
    rows = messages.page(store, messages.MessageFilter(), limit=10)
    assert sorted(r["message_type"] for r in rows) == ["Direct", "MDN"]
    assert messages.get(store, rows[-1]["id"])["raw"].startswith(b"From: ")  # the mbox's From line is not the message's


def test_every_corpus_notice_pairs_or_is_reported_with_a_reason(store, corpora):
    Ingestor(store, now=lambda: T0).ingest_paths([corpora / "direct"])
    notices = [r for r in messages.page(store, messages.MessageFilter(), limit=1000) if r["message_type"] in ("MDN", "DSN")]
    unpaired = {u["message_id"]: u["why"] for u in direct.unpaired(store)}
    assert len(notices) > 20 and unpaired and all(unpaired.values())
    assert all(r["answers_id"] or r["id"] in unpaired for r in notices)
    assert any(d["state"] == Disposition.DISPATCHED for d in direct.deliveries(store))


def test_timed_out_and_failed_deliveries_raise_alerts(store, tmp_path):
    from core import alerts
    from core.commands.context import Context

    files = {f"r{i}.eml": message(f"a{i}@ourclinic", SENDER, [CARD], T0 + timedelta(minutes=i)) for i in range(6)}
    files["d.eml"] = dsn("d0@hisp", "a0@ourclinic", CARD, SENDER, T0 + timedelta(minutes=2))
    ingest(store, tmp_path, files, T0 + timedelta(hours=2))  # one not delivered, five timed out
    ctx = Context(store, actor="tester", now=lambda: T0 + timedelta(hours=2))
    alerts.add_rule(ctx, "direct_timed_out", 3, window_min=240)
    alerts.add_rule(ctx, "direct_failures", 50, window_min=240)
    raised = sorted(a["text"] for a in alerts.evaluate(store, T0 + timedelta(hours=2)).raised)
    assert len(raised) == 2 and "5 of 6 Direct deliveries of the last 240 minutes timed out" in raised[1]
    assert "100% of Direct deliveries of the last 240 minutes failed or timed out (6 of 6" in raised[0]


def test_the_windows_are_an_interfaces_own_and_set_headless(store, store_url, tmp_path, capsys):
    from tests.helpers.cli import run

    ingest(store, tmp_path, {"ref.eml": message("r9@ourclinic", SENDER, [CARD], T0, dispatched=True)}, T0)
    [iface] = {m["interface_id"] for m in messages.page(store, messages.MessageFilter(lane="direct"))}
    code, out, _ = run(capsys, store_url, "interface", "set", str(iface), "--ack-timeout", "600", "--dispatch-timeout", "7200")
    assert code == 0 and "answers due within 600 s, dispatched MDNs within 7200 s" in out
    Ingestor(store, now=lambda: T0 + timedelta(minutes=11)).sweep()
    [late] = queue.items(store, kinds=[QueueKind.DIRECT_TIMED_OUT])
    assert late["reason"] == f"{CARD}: no processed MDN from {CARD} within 10 minutes of sending."
    code, _, err = run(capsys, store_url, "interface", "set", str(iface), "--ack-timeout", "0")
    assert code == 2 and "out of range" in err
