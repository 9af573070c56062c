"""C-CDA documents carried Base64-encoded in an HL7 v2 OBX-5 (MDM, ORU): found at ingest by
file and over MLLP alike, typed like any other; the corpus's other embedded data (images,
PDFs) is no document, and a broken encoding costs nothing."""
from __future__ import annotations

import base64
from datetime import datetime

from core.demo_direct import referral
from core.documents import examine
from core.ingest import Ingestor
from core.store import documents

AT = datetime(2026, 12, 1, 9, 0)


def mdm(payload: str, cid: str = "MDM1") -> bytes:
    return (f"MSH|^~\\&|ECW|NFM|HIE|HIE|20261201090000||MDM^T02^MDM_T02|{cid}|P|2.5.1\r"
            "EVN|T02|20261201090000\rPID|1||MRN77^^^NFM^MR||QUINTERO^MARISOL\rPV1|1|O\r"
            "TXA|1|CN|TEXT|20261201090000|||||||DOC1||||||AU\r"
            f"OBX|1|ED|11488-4^Consult note^LN||^TEXT^XML^Base64^{payload}||||||F\r").encode()


def test_a_referral_in_an_mdm_is_a_document(store, tmp_path):
    encoded = base64.b64encode(referral(0, AT)).decode()
    (tmp_path / "mdm.hl7").write_bytes(mdm(encoded) + b"\n" + mdm("not%base64!!", "MDM2"))
    Ingestor(store, now=lambda: AT).ingest_paths([tmp_path / "mdm.hl7"])
    [doc] = documents.every(store)
    assert (doc["part"], doc["type_name"]) == ("OBX-1-5", "Referral Note")


def test_other_embedded_data_is_no_document(corpora):
    found = [p for p in (corpora / "hl7v2").rglob("*.hl7") if b"|ED|" in p.read_bytes()]
    assert found
    for p in found:
        assert examine.in_hl7(p.read_bytes().decode("latin-1")) == []


def test_over_mllp_too(store):
    from core.ingest import receive
    from core.store.pairing import Pairing

    with store.begin() as conn:
        receive(conn, "listener 127.0.0.1:2575", [mdm(base64.b64encode(referral(1, AT)).decode())],
                Pairing(lambda: AT), now=AT, transport="mllp", peer="127.0.0.1")
    assert [d["type_name"] for d in documents.every(store)] == ["Referral Note"]
