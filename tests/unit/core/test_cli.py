"""The headless read side, through the real entry point, as a script would use it."""
import json

from core.demo import write_logs
from ui.entry import main

FIELDS = {"id", "control_id", "type", "version", "sending_app", "sending_facility", "receiving_app",
          "receiving_facility", "patient_id", "source", "offset", "size", "sha256", "parse_state", "reason",
          "ack_state", "ack_code", "ack_id", "duplicate_of"}


def test_ingest_then_messages_and_queue_as_json(store_url, tmp_path, capsys):
    write_logs(tmp_path / "logs", 3000, seed=11)
    assert main(["--db", store_url, "ingest", str(tmp_path / "logs")]) == 0
    out = capsys.readouterr().out
    assert "message(s)" in out and "queue items added" in out

    main(["--db", store_url, "messages", "--json"])
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(rows) > 3000 and FIELDS <= set(rows[0])
    oru = next(r for r in rows if r["type"] == "ORU^R01" and r["ack_state"] == "accepted")
    assert oru["ack_code"] == "AA" and oru["ack_id"] and len(oru["sha256"]) == 64

    main(["--db", store_url, "messages", "--json", "--control-id", oru["control_id"]])
    assert [json.loads(x)["id"] for x in capsys.readouterr().out.splitlines()] == [oru["id"]]
    main(["--db", store_url, "messages", "--json", "--patient-id", oru["patient_id"], "--type", "ORU"])
    assert all(json.loads(x)["patient_id"] == oru["patient_id"] for x in capsys.readouterr().out.splitlines())
    main(["--db", store_url, "messages", "--json", "--text", oru["control_id"]])
    assert oru["id"] in [json.loads(x)["id"] for x in capsys.readouterr().out.splitlines()]

    main(["--db", store_url, "queue", "--json"])
    items = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    kinds = {i["kind"] for i in items}
    assert {"nak_error", "nak_reject", "missing_ack", "duplicate"} <= kinds
    assert {"id", "message_id", "source", "reason", "signature", "triage_state"} <= set(items[0])
    # the error folder's XML file is one item about its bytes, with a reason a person can act on
    assert any("XML" in i["reason"] for i in items)
