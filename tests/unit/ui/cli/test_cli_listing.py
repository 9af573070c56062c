"""The headless read side, through the real entry point, as a script would use it."""
import json

from core.demo import write_logs
from ui.cli.main import main

FIELDS = {"id", "control_id", "type", "version", "sending_app", "sending_facility", "receiving_app",
          "receiving_facility", "patient_id", "source", "offset", "size", "sha256", "parse_state", "reason",
          "ack_state", "ack_code", "ack_id", "duplicate_of"}


def test_ingest_then_messages_and_queue_as_json(store_url, tmp_path, capsys):
    write_logs(tmp_path / "logs", 3000, seed=11)
    assert main(["--db", store_url, "ingest", str(tmp_path / "logs")]) == 0
    out = capsys.readouterr().out
    assert " messages in " in out and "queue items added" in out

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


def test_ingest_of_a_path_that_does_not_exist_says_so_and_queues_nothing(store_url, tmp_path, capsys):
    from core.store import messages, queue
    from core.store.db import open_store

    assert main(["--db", store_url, "ingest", str(tmp_path / "nowhere")]) != 0
    err = capsys.readouterr().err
    assert "nowhere does not exist" in err and "Traceback" not in err
    (tmp_path / "one.hl7").write_bytes(b"MSH|^~\\&|A|B|C|D|20260101||ADT^A08|X1|P|2.5.1\rPID|1||M1||DOE^J\r")
    assert main(["--db", store_url, "ingest", str(tmp_path / "one.hl7"), str(tmp_path / "nowhere")]) != 0
    assert "not found" in capsys.readouterr().err
    store = open_store(store_url)
    try:
        assert messages.count(store) == 1 and not queue.items(store, kinds=["unreadable_file"])
    finally:
        store.close()


def test_messages_where_a_field_path_query_holds(store_url, tmp_path, capsys):
    import hl7

    write_logs(tmp_path / "logs", 3000, seed=12)
    assert main(["--db", store_url, "ingest", str(tmp_path / "logs")]) == 0
    capsys.readouterr()
    main(["--db", store_url, "messages", "--json", "--type", "ORU"])
    orus = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    main(["--db", store_url, "messages", "--json", "--where", "OBX[*]-8 in ('H','HH')"])
    found = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert found and all(r["type"] == "ORU^R01" for r in found)
    # python-hl7, parsing every ORU, finds the same ones
    from core.store.db import open_store
    from core.store.messages import get
    store = open_store(store_url)
    expected = []
    for r in orus:
        m = hl7.parse(get(store, r["id"])["raw"].decode().replace("\r\n", "\r").replace("\n", "\r"))
        if any(str(s[8]) in ("H", "HH") for s in m if str(s[0]) == "OBX"):
            expected.append(r["id"])
    store.close()
    assert [r["id"] for r in found] == expected
    one = found[0]
    main(["--db", store_url, "messages", "--json", "--where", f"MSH-10 = '{one['control_id']}'", "--type", "ORU"])
    assert [json.loads(x)["id"] for x in capsys.readouterr().out.splitlines()] == [one["id"]]
    assert main(["--db", store_url, "messages", "--where", "OBX[*]-8 in ('H' 'HH')"]) == 1
    assert "--where: expected ',' or ')' in the list, not \"'HH'\" (at character 18)" in capsys.readouterr().err
