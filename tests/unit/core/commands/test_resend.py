"""Resend against receivers written elsewhere (python-hl7, hl7apy) and misbehaving ones."""
from __future__ import annotations

import socket
import threading

import pytest
from sqlalchemy import select

from core.commands.context import CommandError
from core.commands.resend import Configure, Resend
from core.hl7.ack import build
from core.store import audit, queue
from core.store.models import ResendAttempt
from tests.helpers.resend import MSG, Receiver, TlsReceiver, at_once, ctx, enable, setup


def test_nothing_goes_to_an_interface_without_writes(store):
    items, iface = setup(store)
    plan = Resend(ctx(store)).plan({items[0]["id"]: None})
    assert not plan.targets and "writes are not enabled" in plan.refused[0][1]
    with pytest.raises(CommandError, match="destination and a write class"):
        Configure(ctx(store)).run(iface, write_enabled=True)


@pytest.mark.parametrize(("code", "state", "triage"), [("AA", "accepted", "resent"), ("AE", "error", "open"),
                                                        ("AR", "rejected", "open")])
def test_resend_to_python_hl7s_server(store, code, state, triage):
    items, iface = setup(store, 3)
    receiver = Receiver(code)
    try:
        enable(store, iface, receiver.port)
        command = Resend(ctx(store), ack_timeout=5)
        plan = command.plan({i["id"]: i["row_version"] for i in items})
        assert "Resend 3 messages of ECW → QUEST to 127.0.0.1" in plan.confirmation() and "clinical" in plan.confirmation()
        outcomes = command.run(plan)
    finally:
        receiver.stop()
    assert [o.state for o in outcomes] == [state] * 3
    assert [m.split("\r")[0].split("|")[9] for m in receiver.received] == ["C0", "C1", "C2"]  # in order, once each
    assert {i["id"]: i["triage_state"] for i in queue.items(store, kinds=["nak_error"])} == \
        {i["id"]: triage for i in items}
    failed = queue.items(store, kinds=["failed_resend"])
    assert len(failed) == (0 if code == "AA" else 3)
    with store.read() as conn:
        attempts = conn.execute(select(ResendAttempt.__table__)).all()
        assert audit.verify(conn) is None
    assert {(a.state, a.ack_code) for a in attempts} == {(state, code)} and all(a.answer_id for a in attempts)


def test_resend_to_hl7apys_mllp_server(store):
    from hl7apy.mllp import AbstractHandler, MLLPServer
    from hl7apy.parser import get_message_type

    items, iface = setup(store, 2)
    got = []

    class Answer(AbstractHandler):
        def reply(self):
            got.append(self.incoming_message)
            ack = build(self.incoming_message.replace("\n", "\r").encode(), "AA", control_id="H1", timestamp="20260101")
            return "\x0b" + ack.decode() + "\x1c\r"  # hl7apy's handlers frame their own replies

    kind = get_message_type(MSG.format(cid="C0"))
    server = MLLPServer("127.0.0.1", 0, {kind: (Answer,)})
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        enable(store, iface, server.server_address[1])
        outcomes = Resend(ctx(store), ack_timeout=5).run(Resend(ctx(store)).plan({i["id"]: None for i in items}))
    finally:
        server.shutdown()
        server.server_close()
    assert [o.state for o in outcomes] == ["accepted", "accepted"] and len(got) == 2  # it closes after each answer


@pytest.mark.parametrize(("behaviour", "state", "words"), [
    ("close_mid", "unknown", "closed the connection without answering"),
    ("silent", "unknown", "no answer within"),
    ("wrong_id", "unknown", "control ID 'SOMEONE_ELSE'"),
    ("slow", "accepted", "answered AA"),
    ("reset", "unknown", ""),
])
def test_faults_end_in_a_recorded_outcome_and_never_a_silent_retry(store, behaviour, state, words):
    items, iface = setup(store)
    receiver = Receiver(behaviour, kind="raw")
    try:
        enable(store, iface, receiver.port)
        command = Resend(ctx(store), ack_timeout=1.0)
        [outcome] = command.run(command.plan({items[0]["id"]: None}))
        assert outcome.state == state and words in outcome.detail
        assert len(receiver.received) == 1
        again = command.plan({items[0]["id"]: None})
        if state == "unknown":
            assert not again.targets and "outcome is unknown" in again.refused[0][1]
            assert command.plan({items[0]["id"]: None}, after_unknown=True).targets
    finally:
        receiver.stop()


def test_a_dead_receiver_means_nothing_left(store):
    items, iface = setup(store)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nobody listens there
    enable(store, iface, port)
    command = Resend(ctx(store), connect_timeout=1)
    [outcome] = command.run(command.plan({items[0]["id"]: None}))
    assert outcome.state == "failed" and "did not leave this machine" in outcome.detail
    assert command.plan({items[0]["id"]: None}).targets  # safe to try again


def test_the_newest_correction_is_what_goes(store):
    from core.commands.correct import Correct

    items, iface = setup(store)
    c = ctx(store)
    Correct(c).save(Correct(c).preview(items[0]["message_id"], [("ORC-12.1", "1234567893"), ("ORC-12.2", "WELBY")], structural=False))
    receiver = Receiver("AA")
    try:
        enable(store, iface, receiver.port)
        plan = Resend(c).plan({items[0]["id"]: None})
        [target] = plan.targets
        assert target.message_id != target.original_id == items[0]["message_id"]
        Resend(c, ack_timeout=5).run(plan)
    finally:
        receiver.stop()
    assert "\rORC|NW|OC0||||||||||1234567893^WELBY\r" in receiver.received[0]


@pytest.mark.postgres
@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_two_consoles_resending_one_item_send_it_once(store, store_url):
    from core.store.db import open_store

    items, iface = setup(store)
    receiver = Receiver("AA")
    consoles = [open_store(store_url), open_store(store_url)]
    try:
        enable(store, iface, receiver.port)
        plans = [Resend(ctx(s, f"op{n}@ws")).plan({items[0]["id"]: items[0]["row_version"]}) for n, s in enumerate(consoles)]
        outcomes = at_once(consoles, plans)
    finally:
        receiver.stop()
        for s in consoles:
            s.close()
    assert sorted(o.state for o in outcomes) == ["accepted", "conflict"]
    assert len(receiver.received) == 1


def test_resend_over_tls_verifies_the_receiver(store, certificate):
    cert, key = certificate
    items, iface = setup(store, n=2)
    receiver = TlsReceiver(cert, key)
    try:
        Configure(ctx(store)).run(iface, host="127.0.0.1", port=receiver.port, write_class="clinical",
                                  write_enabled=True, tls=True, tls_ca=cert)
        plan = Resend(ctx(store), ack_timeout=5).plan({items[0]["id"]: None})
        assert f"over TLS (receiver verified against {cert})" in plan.confirmation()
        [ok] = Resend(ctx(store), ack_timeout=5).run(plan)
        assert ok.state == "accepted" and len(receiver.received) == 1

        Configure(ctx(store)).run(iface, tls_ca="")  # back to the system's certificates, which do not know ours
        [refused] = Resend(ctx(store), ack_timeout=5, connect_timeout=2).run(
            Resend(ctx(store)).plan({items[1]["id"]: None}))
        assert refused.state == "failed" and "TLS certificate is not trusted" in refused.detail
        assert len(receiver.received) == 1  # nothing left over an unverified connection
    finally:
        receiver.stop()
    [last, *_] = audit.page(store, action="configure_interface")
    assert last["before"]["resend_tls_ca"] == cert and last["after"]["resend_tls_ca"] is None


def test_tls_settings_that_cannot_work_are_refused_when_made(store, certificate, tmp_path):
    cert, key = certificate
    _, iface = setup(store)
    with pytest.raises(CommandError, match="cannot be used"):
        Configure(ctx(store)).run(iface, tls=True, tls_ca=str(tmp_path / "missing.pem"))
    with pytest.raises(CommandError, match="needs its key"):
        Configure(ctx(store)).run(iface, tls=True, tls_cert=cert)
    assert Configure(ctx(store)).run(iface, tls=True, tls_cert=cert, tls_key=key)["resend_tls"] is True


def test_to_sends_elsewhere_but_only_for_a_write_enabled_interface(store):
    items, iface = setup(store)
    receiver = Receiver("AA")
    try:
        assert not Resend(ctx(store)).plan({items[0]["id"]: None}, to=("127.0.0.1", receiver.port)).targets
        enable(store, iface, 1)  # its own destination is a dead port
        plan = Resend(ctx(store)).plan({items[0]["id"]: None}, to=("127.0.0.1", receiver.port))
        assert f"127.0.0.1:{receiver.port} (plain MLLP" in plan.confirmation()
        [outcome] = Resend(ctx(store), ack_timeout=5).run(plan)
        assert outcome.state == "accepted" and len(receiver.received) == 1
    finally:
        receiver.stop()
