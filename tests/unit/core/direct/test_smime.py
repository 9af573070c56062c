"""S/MIME in Direct: a signed message's signer and whether the signature holds; a message
encrypted to the practice opened with its key from the keyring, or queued saying why not;
the corpus's encrypted messages read without their keys."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from core import demo_direct as demo
from core.commands.context import CommandError, Context
from core.commands.direct_keys import AddKey, RemoveKey
from core.direct import mail, smime
from core.ingest import Ingestor
from core.store import direct, messages, queue
from core.vocabulary import Disposition, QueueKind

T0 = datetime(2026, 12, 1, 9, 0)
SENDER, TO = "referrals@direct.ourclinic.example", "intake@direct.cardiology.example"


@pytest.fixture(scope="module")
def certs():
    return {a: demo.certificate(a, start=T0 - timedelta(days=30)) for a in (SENDER, TO)}


def signed(certs, mid="s1@ourclinic", **kw) -> bytes:
    return demo.sign(demo.message(mid, SENDER, [TO], T0, **kw), *certs[SENDER])


def test_a_signature_that_holds_names_its_signer_and_expiry(certs):
    found = mail.read(signed(certs))
    assert found.signed and found.signer.valid and found.trouble == []
    assert found.signer.addresses == [SENDER] and found.signer.not_after == (T0 + timedelta(days=335)).replace(microsecond=0)
    assert len(found.documents) == 1 and found.attachments[0].filename == "referral.xml"
    assert f"Signature: valid; signer {found.signer.subject}" in found.text and "expires 2027-11-01" in found.text


@pytest.mark.parametrize(("change", "why"), [
    (lambda m: m.replace(b"Please see", b"Please SEE"), "its content was changed after it was signed (the digest does not match)"),
    (lambda m: m.replace(b"From: " + SENDER.encode(), b"From: someone@direct.elsewhere.example"),
     "the signer's certificate is for referrals@direct.ourclinic.example, not the sender someone@direct.elsewhere.example"),
])
def test_a_signature_that_does_not_hold_says_why(certs, change, why):
    found = mail.read(change(signed(certs)))
    assert found.signed and not found.signer.valid and found.trouble == [f"its signature does not hold: {why}"]


def test_a_certificate_expired_when_it_signed_is_said():
    old = demo.certificate(SENDER, start=T0 - timedelta(days=400), days=365)
    found = mail.read(demo.sign(demo.message("s2@ourclinic", SENDER, [TO], T0), *old))
    assert found.signer.why == f"the signer's certificate had expired ({old[0].not_valid_after_utc:%Y-%m-%d}) when it was signed"


def test_broken_smime_never_raises():
    for raw in (b"Content-Type: application/pkcs7-mime; smime-type=enveloped-data\r\n\r\nnot base64 at all",
                b"Content-Type: multipart/signed; boundary=x\r\n\r\n--x\r\n\r\nhello\r\n--x--\r\n",
                b"Content-Type: application/pkcs7-mime; smime-type=signed-data\r\nContent-Transfer-Encoding: base64\r\n\r\nAAAA"):
        found = mail.read(raw)
        assert found.trouble and found.trouble[0].startswith(("it cannot be opened", "its signature does not hold"))


def test_an_encrypted_message_opens_with_its_key_and_pairs_its_encrypted_mdn(store, tmp_path, certs):
    sealed = demo.seal(signed(certs, "e1@ourclinic"), certs[TO][0])
    (tmp_path / "e1.eml").write_bytes(sealed)
    Ingestor(store, now=lambda: T0 + timedelta(minutes=1)).ingest_paths([tmp_path / "e1.eml"])
    [item] = queue.items(store, kinds=[QueueKind.DIRECT_UNSECURED])
    assert "it is encrypted to the certificate issued by" in item["reason"] and "What it carries is not read" in item["reason"]
    assert f"serial {certs[TO][0].serial_number:x}" in item["reason"]

    ctx = Context(store)
    pem = certs[TO][1].private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption())
    assert AddKey(ctx).run(TO, cert=certs[TO][0].public_bytes(serialization.Encoding.PEM), key=pem)["opened"] == 1
    e1 = direct.mail(store, item["message_id"])  # stored sealed, opened once its key was added
    assert e1["security"]["decrypted"] and e1["attachments"][0]["filename"] == "referral.xml"
    assert [d["recipient"] for d in direct.deliveries(store)] == [TO]
    assert [i["triage_state"] for i in queue.items(store, kinds=[QueueKind.DIRECT_UNSECURED])] == ["resolved"]
    assert messages.count(store, messages.MessageFilter(text="Referral")) == 1  # its text is searchable now
    (tmp_path / "e2.eml").write_bytes(demo.seal(signed(certs, "e2@ourclinic"), certs[TO][0]))
    notice = demo.sign(demo.mdn("m2@cardiology", "e2@ourclinic", TO, SENDER, T0 + timedelta(minutes=3)), *certs[TO])
    (tmp_path / "m2.eml").write_bytes(demo.seal(notice, certs[SENDER][0]))  # to us, encrypted to our certificate: sealed
    Ingestor(store, now=lambda: T0 + timedelta(minutes=5)).ingest_paths([tmp_path / "e2.eml", tmp_path / "m2.eml"])
    opened = direct.mail(store, [d for d in direct.deliveries(store) if d["header_id"] == "<e2@ourclinic>"][0]["message_id"])
    assert opened["security"]["decrypted"] and opened["security"]["signer"]["valid"] and opened["security"]["trouble"] == []
    assert opened["attachments"][0]["filename"] == "referral.xml"
    [still] = [i["reason"] for i in queue.items(store, kinds=[QueueKind.DIRECT_UNSECURED], states=["open"])]
    assert "A Direct message from" in still and "MDN" not in still  # what it is cannot be known yet
    assert {d["state"] for d in direct.deliveries(store)} == {Disposition.SENT}  # the sealed MDN could not be read

    assert AddKey(ctx).run(SENDER, p12=pkcs12.serialize_key_and_certificates(
        b"ours", certs[SENDER][1], certs[SENDER][0], None, serialization.BestAvailableEncryption(b"pw")),
        password="pw")["opened"] == 1  # the MDN, now read, settles its message
    [e2] = [d for d in direct.deliveries(store) if d["header_id"] == "<e2@ourclinic>"]
    mdn_row = messages.get(store, queue.items(store, kinds=[QueueKind.DIRECT_UNSECURED], states=["resolved"])[0]["message_id"])
    assert e2["state"] == Disposition.PROCESSED and mdn_row["message_type"] == "MDN" and mdn_row["is_ack"]
    assert mdn_row["interface_id"] == messages.get(store, e2["message_id"])["interface_id"]
    (tmp_path / "m3.eml").write_bytes(demo.seal(demo.sign(demo.mdn("m3@cardiology", "e2@ourclinic", TO, SENDER,
                                                                   T0 + timedelta(minutes=4), "dispatched"), *certs[TO]),
                                                certs[SENDER][0]))
    Ingestor(store, now=lambda: T0 + timedelta(minutes=6)).ingest_paths([tmp_path / "m3.eml"])
    [e2] = [d for d in direct.deliveries(store) if d["header_id"] == "<e2@ourclinic>"]
    assert e2["state"] == Disposition.DISPATCHED


def test_keys_are_refused_in_words_and_removed_with_their_secret(store, certs):
    from core import secrets

    ctx = Context(store)
    other = demo.certificate("x@direct.other.example")
    cert_pem = certs[TO][0].public_bytes(serialization.Encoding.PEM)
    wrong = other[1].private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption())
    with pytest.raises(CommandError, match="the private key does not belong to the certificate"):
        AddKey(ctx).run(TO, cert=cert_pem, key=wrong)
    with pytest.raises(CommandError, match="cannot be read as a certificate"):
        AddKey(ctx).run(TO, cert=b"garbage", key=b"garbage")
    with pytest.raises(CommandError, match="Name the Direct address"):
        AddKey(ctx).run("not an address", cert=cert_pem, key=wrong)
    right = certs[TO][1].private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption())
    AddKey(ctx).run(TO, cert=cert_pem, key=right)
    assert secrets.get(f"direct:{TO}", "private_key").startswith("-----BEGIN PRIVATE KEY")
    RemoveKey(ctx).run(TO)
    assert secrets.get(f"direct:{TO}", "private_key") is None
    with pytest.raises(CommandError, match="no Direct certificate"):
        RemoveKey(ctx).run(TO)


def test_the_corpus_encrypted_messages_say_whom_they_are_for(corpora):
    found = sorted((corpora / "direct").rglob("*.txt")) + sorted((corpora / "direct").rglob("*.eml"))
    sealed = [mail.read(p.read_bytes()) for p in found if b"enveloped-data" in p.read_bytes()]
    assert len(sealed) >= 8
    for m in sealed:
        assert m.encrypted and not m.decrypted and len(m.trouble) == 1
        assert m.trouble[0].startswith("it cannot be opened: it is encrypted to the certificate issued by"), m.trouble
    assert smime.decrypt(b"junk", []) == (None, "its encrypted part is not a readable PKCS#7 envelope")
