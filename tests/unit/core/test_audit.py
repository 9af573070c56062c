"""The audit chain on both engines: intact, and every kind of tampering found where it is."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select, update

from core.audit import GENESIS, describe, entry_hash, fingerprint
from core.store import audit
from core.store.models import AuditEntry, AuditHead

A = AuditEntry.__table__

T0 = datetime(2026, 11, 24, 9, 0, 0, 123456)


def fill(store, n=5):
    with store.begin() as conn:
        for i in range(n):
            audit.append(conn, actor=f"op{i}@ws", action="acknowledge", at=T0 + timedelta(seconds=i), item_id=i,
                         before={"triage_state": "open"}, after={"triage_state": "acknowledged", "note": "ünïcode"})


def check(store):
    with store.read() as conn:
        return audit.verify(conn)


def test_an_untouched_chain_verifies(store):
    assert check(store) is None  # empty
    fill(store)
    assert check(store) is None


def test_an_edited_entry_is_named(store):
    fill(store)
    with store.begin() as conn:
        conn.execute(update(AuditEntry).where(AuditEntry.seq == 3).values(after={"triage_state": "resolved"}))
    broken = check(store)
    assert broken.seq == 3 and "changed" in broken.why


def test_a_rewritten_entry_with_a_fresh_hash_breaks_the_next_link(store):
    fill(store)
    forged = entry_hash("x" * 64, 2, T0, "mallory", "acknowledge", 1, None, None, None)
    with store.begin() as conn:
        conn.execute(update(AuditEntry).where(AuditEntry.seq == 2).values(actor="mallory", hash=forged))
    assert check(store).seq == 2


def test_deleted_entries_are_found_in_the_middle_and_at_the_end(store):
    fill(store)
    with store.begin() as conn:
        conn.execute(delete(AuditEntry).where(AuditEntry.seq == 5))
    broken = check(store)
    assert broken.seq == 5 and "missing" in broken.why
    with store.begin() as conn:
        conn.execute(delete(AuditEntry).where(AuditEntry.seq == 2))
    assert check(store).seq == 2


def test_head_is_kept(store):
    fill(store, 3)
    with store.read() as conn:
        assert conn.execute(AuditHead.__table__.select()).one().seq == 3


# -- a forger with the database ------------------------------------------------------------
def _forge_all_hashes(store, seq: int, change: dict) -> None:
    """Edit entry `seq` and recompute every hash after it, and the head: what the hash chain
    alone cannot catch."""
    with store.begin() as conn:
        conn.execute(update(A).where(A.c.seq == seq).values(**change))
        prev = GENESIS
        for r in conn.execute(select(A).order_by(A.c.seq)).all():
            digest = entry_hash(prev, r.seq, r.at, r.actor, r.action, r.item_id, r.message_id, r.before, r.after)
            conn.execute(update(A).where(A.c.seq == r.seq).values(prev_hash=prev, hash=digest))
            prev = digest
        conn.execute(update(audit.H).values(hash=prev))


def test_a_forger_who_recomputes_every_hash_is_caught_by_the_signatures(store):
    fill(store, 5)
    _forge_all_hashes(store, 2, {"actor": "mallory@ws9"})
    report = audit.verify_store(store)
    assert not report.intact and report.broken.seq == 2 and "signature does not match" in report.broken.why


def test_deleting_the_newest_entries_and_fixing_the_head_is_caught_against_the_last_verified_head(store):
    fill(store, 5)
    assert audit.verify_store(store).intact  # this workstation has now seen 5
    with store.begin() as conn:
        newest = conn.execute(select(A).where(A.c.seq == 4)).one()
        conn.execute(delete(A).where(A.c.seq == 5))
        conn.execute(update(audit.H).values(seq=4, hash=newest.hash))
    with store.read() as conn:
        assert audit.verify(conn) is None  # the chain alone checks out
    report = audit.verify_store(store)
    assert not report.intact and "4 entries, but 5 were verified here" in report.warnings[0]


def test_wiping_everything_is_not_intact_0_entries(store):
    fill(store, 3)
    assert audit.verify_store(store).intact
    with store.begin() as conn:
        conn.execute(delete(A))
        conn.execute(update(audit.H).values(seq=0, hash=GENESIS))
    report = audit.verify_store(store)
    assert not report.intact and "entries were removed" in report.warnings[0]


def test_a_rewritten_and_re_signed_chain_with_a_new_key_is_reported(store):
    """The forger brings a key of their own: the chain is whole, but what this workstation
    verified before reads differently now."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    fill(store, 4)
    assert audit.verify_store(store).intact
    forger = Ed25519PrivateKey.generate()
    fp = fingerprint(forger.public_key())
    _forge_all_hashes(store, 2, {"actor": "mallory@ws9"})
    from cryptography.hazmat.primitives import serialization

    raw = forger.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()
    with store.begin() as conn:
        conn.execute(insert(audit.K), {"fingerprint": fp, "public_key": raw, "workstation": "mallory@ws9",
                                       "registered_at": datetime(2026, 1, 1)})
        for r in conn.execute(select(A)).all():
            conn.execute(update(A).where(A.c.seq == r.seq).values(signer=fp, signature=forger.sign(r.hash.encode()).hex()))
    report = audit.verify_store(store)
    assert report.broken is None and not report.intact
    assert "now reads differently" in report.warnings[0] and fp[:16] in report.warnings[-1]


def test_entries_are_signed_and_the_keys_shown_by_fingerprint(store):
    fill(store, 2)
    report = audit.verify_store(store)
    [(fp, (who, n))] = report.signers.items()
    assert n == 2 and len(fp) == 64 and "@" in who
    lines = describe(report)
    assert lines[0] == "audit chain intact: 2 entries, every one linked, 2 signed" and fp[:16] in lines[1]
