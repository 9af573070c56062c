from __future__ import annotations

from core.commands.context import Context
from core.commands.validate import Validate
from core.ingest import Ingestor
from core.store import messages, queue

NO_PID3 = (b"MSH|^~\\&|LAB|L|EHR|E|20260101120000||ADT^A01^ADT_A01|C1|P|2.5\r"
           b"EVN|A01|20260101120000\rPID|1||||DOE^JANE\rPV1|1|O\r")


def test_hl7apy_findings_become_one_invalid_item(store):
    [bad, junk] = Ingestor(store).ingest_messages("tap", [NO_PID3, b"not hl7 at all"], transport="mllp")
    ctx = Context(store, actor="alice@ws1")
    found = Validate(ctx).run([bad, junk])
    assert junk not in found  # unparseable: nothing for hl7apy to read
    assert any("PID.PID_3" in f.text for f in found[bad])
    Validate(ctx).run([bad])  # again: still one item
    items = [i for i in queue.items(store, kinds=["invalid"]) if i["message_id"] == bad and "hl7apy" in i["signature"]]
    assert len(items) == 1 and "hl7apy: Missing required child PID.PID_3" in items[0]["signature"]
    # the lane catalogue had already caught it at ingest, under its own rule
    assert any(i["signature"] == "invalid | required PID-3 missing" for i in queue.items(store, kinds=["invalid"]))
    assert messages.get(store, bad)["parse_state"] == "invalid"
