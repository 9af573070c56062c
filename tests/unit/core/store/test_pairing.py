"""ACK pairing, enhanced mode, duplicates, missing ACKs and the queue, on both engines."""
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from core.ingest import Ingestor
from core.store import pairing
from core.store.models import Message, QueueItem

T0 = datetime(2026, 3, 2, 9, 0, 0)


def msg(cid, sender=("LAB", "L"), receiver=("EHR", "E"), mtype="ORU^R01", extra="", t="20260302090000"):
    return (f"MSH|^~\\&|{sender[0]}|{sender[1]}|{receiver[0]}|{receiver[1]}|{t}||{mtype}|{cid}|P|2.5.1{extra}\r"
            f"PID|1||P{cid}||DOE^J\rOBR|1|||GLU^Glucose\rOBX|1|NM|GLU^Glucose||98\r").encode()


def ack(cid, code, of, sender=("EHR", "E"), receiver=("LAB", "L"), err=""):
    return (f"MSH|^~\\&|{sender[0]}|{sender[1]}|{receiver[0]}|{receiver[1]}|20260302090001||ACK|{cid}|P|2.5.1\r"
            f"MSA|{code}|{of}\r{err}").encode()


def ingest(store, tmp_path, name, *parts, now=T0 + timedelta(seconds=30)):
    f = tmp_path / name
    f.write_bytes(b"".join(parts))
    Ingestor(store, now=lambda: now).ingest_paths([f])


def states(store):
    with store.read() as c:
        return {r.control_id: (r.ack_state, r.ack_result) for r in c.execute(select(Message).where(Message.is_ack.is_(False)))}


def items(store):
    with store.read() as c:
        return sorted((r.kind, r.triage_state) for r in c.execute(select(QueueItem)))


def test_ack_states_from_codes_and_err_severity(store, tmp_path):
    ingest(store, tmp_path, "a.hl7",
           msg("1"), ack("A1", "AA", "1"),
           msg("2"), ack("A2", "AA", "2", err="ERR||PID^1^5|103^Table value not found^HL70357|W\r"),
           msg("3"), ack("A3", "AE", "3", err="ERR||PID^1^3|101^Required field missing^HL70357|E\r"),
           msg("4"), ack("A4", "AR", "4"),
           msg("5"))
    assert states(store) == {"1": ("accepted", "AA"), "2": ("accepted_with_warnings", "AA"), "3": ("error", "AE"),
                             "4": ("rejected", "AR"), "5": ("pending", None)}
    assert items(store) == [("nak_error", "open"), ("nak_reject", "open")]


def test_acks_never_pair_across_unrelated_senders(store, tmp_path):
    ingest(store, tmp_path, "a.hl7", msg("1"), msg("1", sender=("RAD", "R")),
           ack("A1", "AE", "1", sender=("EHR", "E"), receiver=("RAD", "R")))
    with store.read() as c:
        rows = {r.sending_app: r.ack_state for r in c.execute(select(Message).where(Message.is_ack.is_(False)))}
    assert rows == {"LAB": "not_expected", "RAD": "error"}


def test_enhanced_mode_application_ack_decides(store, tmp_path):
    ingest(store, tmp_path, "a.hl7", msg("1", extra="|||AL|AL"), ack("C1", "CA", "1"),
           msg("2", extra="|||AL|AL"), ack("C2", "CA", "2"), ack("P2", "AE", "2"),
           msg("3", extra="|||AL|ER"), ack("C3", "CA", "3"),
           msg("4", extra="|||AL|AL"), ack("P4", "AA", "4"), ack("C4", "CR", "4"))
    got = states(store)
    assert got["1"] == ("pending", "CA")  # commit accepted, application ACK still to come
    assert got["2"] == ("error", "AE")
    assert got["3"] == ("accepted", "CA")  # ER: no application ACK unless there is an error
    assert got["4"] == ("accepted", "AA")  # a later commit ACK does not overrule the application ACK


def test_ack_seen_before_its_message_pairs_later(store, tmp_path):
    ingest(store, tmp_path, "acks.hl7", ack("A9", "AR", "9"))
    assert items(store) == [("nak_reject", "open")]
    ingest(store, tmp_path, "msgs.hl7", msg("9"))
    assert states(store)["9"] == ("rejected", "AR")
    with store.read() as c:
        item = c.execute(select(QueueItem)).one()
        original = c.execute(select(Message.id).where(Message.control_id == "9")).scalar_one()
    assert item.message_id == original  # the orphan NAK's item moved to the message, not doubled


def test_expectation_rules(store, tmp_path):
    ingest(store, tmp_path, "a.hl7", msg("1", sender=("X", "1"), receiver=("Y", "1")),
           msg("2", sender=("P", "1"), receiver=("Q", "1"), extra="|||AL|NE"))
    got = states(store)
    assert got["1"] == ("not_expected", None) and got["2"] == ("pending", None)
    # once the pair shows an ACK, its messages expect one
    ingest(store, tmp_path, "b.hl7", msg("3", sender=("X", "1"), receiver=("Y", "1")), ack("A3", "AA", "3", sender=("Y", "1"), receiver=("X", "1")))
    assert states(store)["1"] == ("pending", None)


@pytest.mark.parametrize("page", [20_000, 1], ids=["one page", "a page a message"])
def test_missing_after_timeout_and_late_ack_resolves(store, tmp_path, monkeypatch, page):
    monkeypatch.setattr(pairing, "SWEEP_PAGE", page)  # the sweep reads pending messages a page at a time
    ingest(store, tmp_path, "a.hl7", msg("1"), msg("2"), ack("A2", "AA", "2"), now=T0 + timedelta(seconds=30))
    assert states(store)["1"] == ("pending", None)
    ingest(store, tmp_path, "b.hl7", msg("3", t="20260302091000"), now=T0 + timedelta(minutes=10))
    assert states(store)["1"] == ("missing", None)
    assert ("missing_ack", "open") in items(store)
    ingest(store, tmp_path, "c.hl7", ack("A1", "AA", "1"), now=T0 + timedelta(minutes=11))
    assert states(store)["1"] == ("accepted", "AA")
    assert ("missing_ack", "resolved") in items(store)


def test_duplicates_same_sender_control_id_and_content(store, tmp_path):
    crlf = msg("7").replace(b"\r", b"\r\n")
    ingest(store, tmp_path, "a.hl7", msg("7"), crlf, msg("7", sender=("OTHER", "O")), msg("7").replace(b"P7", b"P8"))
    with store.read() as c:
        dups = [r.duplicate_of for r in c.execute(select(Message).order_by(Message.id))]
    assert dups == [None, 1, None, None]  # CRLF vs CR is the same content; other sender or content is not
    assert items(store).count(("duplicate", "open")) == 1


def test_batch_trailer_mismatch_and_unreadable_file(store, tmp_path):
    ingest(store, tmp_path, "b.hl7", b"BHS|^~\\&|LAB\r", msg("1"), msg("2"), b"BTS|3\r")
    locked = tmp_path / "locked.hl7"
    locked.write_bytes(msg("9"))
    locked.chmod(0)
    try:
        import os
        if os.access(locked, os.R_OK):  # root reads anything: make it a folder-like failure instead
            locked.chmod(0o644)
            locked.unlink()
            locked.mkdir()
            (locked / "x").symlink_to("/nonexistent/target")
        Ingestor(store, now=lambda: T0).ingest_paths([locked])
    finally:
        if locked.is_file():
            locked.chmod(0o644)
    with store.read() as c:
        reasons = {r.kind: r.reason for r in c.execute(select(QueueItem))}
    assert "BTS-1 says 3 messages but the batch holds 2" in reasons["batch_mismatch"]
    assert reasons["unreadable_file"].startswith(("Could not read the file", "A symbolic link that loops or leads nowhere"))


def test_an_unknown_msa1_code_is_its_own_state_never_accepted(store, tmp_path):
    ingest(store, tmp_path, "x.hl7", msg("1"), ack("A1", "XX", "1"), msg("2"), ack("A2", "OK", "2"), msg("3"), ack("A3", "AA", "3"))
    got = states(store)
    assert got["1"][0] == got["2"][0] == "unrecognised" and got["3"][0] == "accepted"


def test_a_poison_charset_does_not_stop_the_messages_behind_it(store, tmp_path):
    poison = [msg(f"P{c}", extra=f"|||||US|{c}") for c in ("base64", "rot13", "hex", "zlib", "bz2", "uu", "quopri")]
    ingest(store, tmp_path, "p.hl7", *poison, msg("GOOD"))
    got = states(store)
    assert "GOOD" in got and len(got) == len(poison) + 1
    with store.read() as c:
        reasons = c.execute(select(Message.reason).where(Message.control_id.like("P%"))).scalars().all()
    assert all("unknown character set" in r for r in reasons)
