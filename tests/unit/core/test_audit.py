"""The audit chain on both engines: intact, and every kind of tampering found where it is."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, update

from core import audit
from core.store.models import AuditEntry, AuditHead

T0 = datetime(2026, 11, 24, 9, 0, 0, 123456)


def fill(store, n=5):
    with store.engine.begin() as conn:
        for i in range(n):
            audit.append(conn, actor=f"op{i}@ws", action="acknowledge", at=T0 + timedelta(seconds=i), item_id=i,
                         before={"triage_state": "open"}, after={"triage_state": "acknowledged", "note": "ünïcode"})


def check(store):
    with store.engine.connect() as conn:
        return audit.verify(conn)


def test_an_untouched_chain_verifies(store):
    assert check(store) is None  # empty
    fill(store)
    assert check(store) is None


def test_an_edited_entry_is_named(store):
    fill(store)
    with store.engine.begin() as conn:
        conn.execute(update(AuditEntry).where(AuditEntry.seq == 3).values(after={"triage_state": "resolved"}))
    broken = check(store)
    assert broken.seq == 3 and "changed" in broken.why


def test_a_rewritten_entry_with_a_fresh_hash_breaks_the_next_link(store):
    fill(store)
    forged = audit.entry_hash("x" * 64, 2, T0, "mallory", "acknowledge", 1, None, None, None)
    with store.engine.begin() as conn:
        conn.execute(update(AuditEntry).where(AuditEntry.seq == 2).values(actor="mallory", hash=forged))
    assert check(store).seq == 2


def test_deleted_entries_are_found_in_the_middle_and_at_the_end(store):
    fill(store)
    with store.engine.begin() as conn:
        conn.execute(delete(AuditEntry).where(AuditEntry.seq == 5))
    broken = check(store)
    assert broken.seq == 5 and "missing" in broken.why
    with store.engine.begin() as conn:
        conn.execute(delete(AuditEntry).where(AuditEntry.seq == 2))
    assert check(store).seq == 2


def test_head_is_kept(store):
    fill(store, 3)
    with store.engine.connect() as conn:
        assert conn.execute(AuditHead.__table__.select()).one().seq == 3
