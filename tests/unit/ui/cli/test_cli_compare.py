"""`compare` through the real entry point: two messages, two views keyed by a field, bad input."""
import json

from tests.helpers.cli import run

ORM = "MSH|^~\\&|ECW|CLINIC|LAB|L|2026010{n}0800||ORM^O01|C{n}|P|2.5.1\rPID|1||M{n}^^^H^MR||DOE^J\rORC|NW|ORD{n}\rOBR|1|ORD{n}||{test}\r"
ORU = "MSH|^~\\&|LAB|L|ECW|CLINIC|2026010{n}0900||ORU^R01|R{n}|P|2.5.1\rPID|1||M{n}^^^H^MR||DOE^J\rORC|RE|ORD{n}\rOBR|1|ORD{n}||{test}\r"


def test_compare_two_messages_and_two_views(store_url, tmp_path, capsys):
    (tmp_path / "out.hl7").write_text("\n".join(ORM.format(n=n, test="GLU") for n in (1, 2, 3)))
    (tmp_path / "in.hl7").write_text("\n".join(ORU.format(n=n, test="GLU" if n == 1 else "A1C") for n in (1, 2, 4)))
    assert run(capsys, store_url, "ingest", str(tmp_path / "out.hl7"), str(tmp_path / "in.hl7"))[0] == 0
    code, out, _ = run(capsys, store_url, "messages", "--json")
    ids = {json.loads(line)["control_id"]: json.loads(line)["id"] for line in out.splitlines()}
    code, out, err = run(capsys, store_url, "compare", str(ids["C1"]), str(ids["R1"]), "--json")
    found = {r["path"]: (r["left"], r["right"]) for r in map(json.loads, out.splitlines())}
    assert code == 4 and found["MSH-9.1"] == ("ORM", "ORU") and found["ORC-1"] == ("NW", "RE") and "OBR-4" not in found
    code, out, err = run(capsys, store_url, "compare", str(ids["C1"]), str(ids["C1"]))
    assert code == 0 and out.strip().endswith("0 differ, 19 the same")

    run(capsys, store_url, "view", "save", "ours", "--type", "ORM")
    run(capsys, store_url, "view", "save", "lab", "--type", "ORU")
    code, out, err = run(capsys, store_url, "compare", "--left", "ours", "--right", "lab", "--key", "ORC-2",
                         "--ignore", "MSH-3", "--ignore", "MSH-4", "--ignore", "MSH-5", "--ignore", "MSH-6",
                         "--ignore", "MSH-7", "--ignore", "MSH-9", "--ignore", "MSH-10", "--ignore", "ORC-1")
    assert code == 0, err
    assert out.startswith("keyed by ORC-2: 2 matched, 1 of them different; 1 only in ours, 1 only in lab")
    assert "ORD3 (message" in out and "ORD4 (message" in out and "ORD2: messages" in out and "OBR-4" in out
    code, out, err = run(capsys, store_url, "compare", "--left", "ours", "--right", "lab", "--key", "ORC-2", "--json")
    summary = json.loads(out.splitlines()[0])
    assert summary["kind"] == "summary" and summary["matched"] == 2 and summary["ignored"] == ["MSH-7", "MSH-10"]


def test_compare_refuses_what_it_cannot_do_in_one_line(store_url, tmp_path, capsys):
    (tmp_path / "out.hl7").write_text(ORM.format(n=1, test="GLU"))
    run(capsys, store_url, "ingest", str(tmp_path / "out.hl7"))
    for args, said in ((["1"], "compare two messages"), (["1", "999"], "no message 999"),
                       (["--left", "x"], "--left VIEW --right VIEW --key PATH"),
                       (["--left", "x", "--right", "y", "--key", "ORC-2"], "no view called 'x'"),
                       (["1", "1", "--ignore", "PID"], "--ignore")):
        code, out, err = run(capsys, store_url, "compare", *args)
        assert code != 0 and said in err and "Traceback" not in err, (args, err)
