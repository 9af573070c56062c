"""`export --deidentify` through the real entry point: good and bad input."""
import json

from core.demo import write_logs
from core.hl7.framing import MESSAGE, frame
from tests.helpers.cli import run


def test_export_writes_the_chosen_messages_and_says_what_it_blanked(store_url, tmp_path, capsys):
    write_logs(tmp_path / "logs", 2000, seed=5)
    assert run(capsys, store_url, "ingest", str(tmp_path / "logs"))[0] == 0
    code, out, err = run(capsys, store_url, "messages", "--json", "--type", "ADT")
    adts = [json.loads(line) for line in out.splitlines()]
    target = tmp_path / "vendor.hl7"
    code, out, err = run(capsys, store_url, "export", "--deidentify", "--out", str(target), "--type", "ADT")
    assert code == 0 and f"{len(adts):,} messages written de-identified to {target}" in out, (out, err)
    data = target.read_bytes()
    assert sum(p.kind == MESSAGE for p in frame(data)[0]) == len(adts)
    assert not any(a["patient_id"] and a["patient_id"].encode() in data for a in adts)

    code, out, err = run(capsys, store_url, "export", "--deidentify", "--out", str(tmp_path / "two.hl7"),
                         "--id", str(adts[0]["id"]), "--id", str(adts[1]["id"]))
    assert code == 0 and out.startswith("2 messages written")
    code, out, err = run(capsys, store_url, "audit", "list", "--json", "--limit", "2")
    entries = [json.loads(line) for line in out.splitlines()]
    assert [e["action"] for e in entries] == ["export", "export"]
    assert entries[0]["after"]["messages"] == 2 and entries[0]["after"]["chosen"]["ids"] == [adts[0]["id"], adts[1]["id"]]


def test_export_refuses_what_it_cannot_do_in_one_line(store_url, tmp_path, capsys):
    write_logs(tmp_path / "logs", 300, seed=6)
    run(capsys, store_url, "ingest", str(tmp_path / "logs"))
    code, out, err = run(capsys, store_url, "export", "--out", str(tmp_path / "x.hl7"))
    assert code == 2 and "--deidentify" in err and "Traceback" not in err
    code, out, err = run(capsys, store_url, "export", "--deidentify", "--out", str(tmp_path / "x.hl7"), "--allow", "PID 5")
    assert code != 0 and "--allow takes a segment or a field" in err and "Traceback" not in err
    code, out, err = run(capsys, store_url, "export", "--deidentify", "--out", str(tmp_path))
    assert code != 0 and "is a folder" in err and "Traceback" not in err
    code, out, err = run(capsys, store_url, "export", "--deidentify", "--out", str(tmp_path / "none.hl7"), "--where", "PID-3 = ")
    assert code != 0 and "--where" in err and "Traceback" not in err
    code, out, err = run(capsys, store_url, "export", "--deidentify", "--out", str(tmp_path / "none.hl7"),
                         "--control-id", "NO-SUCH")
    assert code == 4 and out.startswith("0 messages written")
