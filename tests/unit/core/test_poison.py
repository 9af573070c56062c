"""Poison never stops the pipeline: hypothesis-made messages (hostile MSH-18 codecs, unknown
MSA-1 codes, NULs, stray delimiters, broken segments) through the whole ingest path and
through the tap; and a record the tap's loader cannot store is kept as bytes, not a wall."""
from __future__ import annotations

import hl7.client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.hl7.framing import JUNK, MESSAGE, frame
from core.ingest import Ingestor
from core.store import messages, queue
from core.store.messages import MessageFilter
from tests.helpers.tap import MSG, Tap

HOSTILE_CHARSETS = ["", "base64", "rot13", "hex", "zlib", "bz2", "uu", "quopri", "UNICODE UTF-16", "8859/1", "\x00", "^~&"]
field = st.text(alphabet=st.characters(codec="latin-1", exclude_characters="\r\n|"), max_size=12)


@st.composite
def hostile_messages(draw) -> bytes:
    """An MSH-led message whose every field may be hostile; sometimes an ACK with any MSA-1."""
    cid = draw(st.text(alphabet="ABC123", min_size=1, max_size=6))
    charset = draw(st.sampled_from(HOSTILE_CHARSETS) | field)
    mtype = draw(st.sampled_from(["ORU^R01", "ACK", "ADT^A08", "", "^^"]) | field)
    body = [f"MSH|^~\\&|{draw(field)}|F|EHR|E|{draw(field)}||{mtype}|{cid}|P|{draw(field)}|||||US|{charset}"]
    if mtype == "ACK" or draw(st.booleans()):
        body.append(f"MSA|{draw(st.sampled_from(['AA', 'AE', 'XX', 'zz', '', 'CA']) | field)}|{draw(field)}")
    body += draw(st.lists(field.map(lambda f: f"PID|1||{f}") | field | st.just("\x00\x00"), max_size=4))
    raw = "\r".join(body).encode("latin-1")
    return draw(st.sampled_from([b"", b"\x00\x00", b"\xef\xbb\xbf"])) + raw + draw(st.sampled_from([b"\r", b"\r\n", b"\n", b""]))


GOOD = b"MSH|^~\\&|LAB|L|EHR|E|20260101||ADT^A08|GOOD|P|2.5.1\rPID|1||M1||DOE^J\r"


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(files=st.lists(st.lists(hostile_messages(), min_size=1, max_size=5), min_size=1, max_size=4))
def test_hostile_files_never_stop_ingest_and_every_byte_is_kept(tmp_path_factory, files):
    from core.store.db import open_store

    folder = tmp_path_factory.mktemp("hostile")
    store = open_store(f"sqlite:///{folder / 'store.db'}")
    try:
        for n, msgs in enumerate(files):
            (folder / f"{n:02d}.hl7").write_bytes(b"".join(m if m.endswith((b"\r", b"\n")) else m + b"\r" for m in msgs))
        (folder / "zz-last.hl7").write_bytes(GOOD)  # read after every hostile file
        Ingestor(store).ingest_paths([folder])
        rows = messages.page(store, MessageFilter(), limit=1000)
        assert "GOOD" in {r["control_id"] for r in rows}
        stored = sum(len(messages.get(store, r["id"])["raw"]) for r in rows)
        kept = sum(p.size for f in folder.glob("*.hl7") for p in frame(f.read_bytes())[0] if p.kind in (MESSAGE, JUNK))
        assert stored == kept  # every piece the framer found is stored, whole
    finally:
        store.close()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(hostile_messages(), min_size=1, max_size=8))
def test_hostile_traffic_never_stops_the_tap(tmp_path_factory, batch):
    from core.store.db import open_store

    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('tap') / 'store.db'}")
    tap = Tap(store)
    try:
        with hl7.client.MLLPClient("127.0.0.1", tap.port) as client:
            for raw in [*batch, GOOD]:
                client.send_message(raw.decode("latin-1").lstrip("\ufeff"))
        tap.stored()
        assert tap.listener.stats.stored == tap.listener.stats.received * 2  # every message and the tap's answer
        assert messages.page(store, MessageFilter(control_id="GOOD"), limit=5)
    finally:
        tap.stop()
        store.close()


def test_a_record_the_loader_cannot_store_is_kept_as_bytes_and_the_rest_goes_on(store, monkeypatch):
    from core import ingest

    real = ingest.store_messages

    def poisoned(conn, rows, pairing, **how):
        if any(b"MRNPOISON" in r["raw"] for r in rows if r["parse_state"] != "unparseable"):
            raise ValueError("a bug that only this message meets")
        return real(conn, rows, pairing, **how)

    monkeypatch.setattr(ingest, "store_messages", poisoned)
    tap = Tap(store, loader_process=False)  # the fault is planted in this process; the loader's code is the same
    try:
        for cid in ("B1", "POISON", "B2"):
            with hl7.client.MLLPClient("127.0.0.1", tap.port) as client:
                assert "MSA|AA" in client.send_message(MSG.format(cid=cid)).decode()
        tap.stored()
    finally:
        tap.stop()
    rows = {r["control_id"] or "": r for r in messages.page(store, MessageFilter(acks=False), limit=20)}
    assert {"B1", "B2"} <= set(rows)
    [kept] = [r for r in messages.page(store, MessageFilter(), limit=20) if r["parse_state"] == "unparseable"]
    assert messages.get(store, kept["id"])["raw"] == MSG.format(cid="POISON").encode()
    [item] = queue.items(store, kinds=["unparseable"])
    assert "could not store this message as read (ValueError" in item["reason"]
