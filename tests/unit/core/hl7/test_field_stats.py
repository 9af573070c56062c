"""Field statistics (issue 19): fill rate, distinct values, the commonest, lengths; drift:
values first seen since a moment, and a field that started or stopped being filled."""
from __future__ import annotations

import json
from datetime import datetime

import pytest

from core.hl7.field_stats import FieldStats
from core.hl7.query import QueryError


def oru(codes: list[str], location: str = "") -> str:
    obx = "".join(f"OBX|{i}|NM|{c}^Test||1\r" for i, c in enumerate(codes, 1))
    return f"MSH|^~\\&|L|F|E|N|20261201||ORU^R01|1|P|2.5\rPID|1||M1^^^NFM^MR\rPV1|1|O|{location}\r{obx}"


def test_fill_distinct_commonest_and_lengths():
    stats = FieldStats(["OBX[*]-3.1", "PV1-3", "PID-3[*].4"])
    for codes, loc in ((["GLU", "K"], "ER"), (["GLU"], ""), (["NA", "GLU", "K"], "ICU")):
        stats.add(oru(codes, loc), datetime(2026, 12, 1))
    obx, pv1, aa = stats.report()
    assert obx["fill_rate"] == 1.0 and obx["distinct"] == 3 and obx["top"][0] == {"value": "GLU", "count": 3, "first_seen": datetime(2026, 12, 1)}
    assert obx["length"] == {"min": 1, "max": 3, "mean": 2.2}
    assert pv1["filled"] == 2 and pv1["fill_rate"] == round(2 / 3, 4) and {t["value"] for t in pv1["top"]} == {"ER", "ICU"}
    assert aa["top"] == [{"value": "NFM", "count": 3, "first_seen": datetime(2026, 12, 1)}]


def test_drift_names_the_values_first_seen_since_and_the_fill_before_and_since():
    since = datetime(2026, 12, 2)
    stats = FieldStats(["OBX[*]-3.1", "PV1-3"], since=since)
    stats.add(oru(["GLU"], ""), datetime(2026, 12, 1, 9))
    stats.add(oru(["GLU", "TROP"], "ER"), datetime(2026, 12, 2, 8))  # a new code, and a location starts being sent
    stats.add(oru(["TROP"], "ER"), datetime(2026, 12, 2, 9))
    obx, pv1 = stats.report()
    assert obx["new_since"] == [{"value": "TROP", "count": 2, "first_seen": datetime(2026, 12, 2, 8)}]
    assert (pv1["fill_rate_before"], pv1["fill_rate_since"]) == (0.0, 1.0)
    json.dumps(obx, default=str)


def test_a_bad_path_is_refused_in_words():
    with pytest.raises(QueryError, match="not a field path"):
        FieldStats(["PID3"])


def test_stats_headless_on_the_demo(store_url, tmp_path, capsys):
    from core.demo import write_logs
    from ui.cli.main import main

    write_logs(tmp_path / "logs", 2000, seed=4)
    assert main(["--db", store_url, "ingest", str(tmp_path / "logs")]) == 0
    capsys.readouterr()
    assert main(["--db", store_url, "stats", "OBX[*]-3.1", "MSH-9.1", "--type", "ORU", "--json"]) == 0
    obx, msh = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert obx["fill_rate"] == 1.0 and obx["distinct"] > 3 and [(t["value"], t["count"]) for t in msh["top"]] == [("ORU", msh["messages"])]
    assert main(["--db", store_url, "stats", "PID-3.1", "--where", "MSH-9.1 = ADT", "--new-since", "1h"]) == 0
    out = capsys.readouterr().out
    assert "PID-3.1:" in out and "values not seen before" in out
    assert main(["--db", store_url, "stats", "PID3"]) == 1
    assert "not a field path: 'PID3'" in capsys.readouterr().err


def test_times_and_numbers_get_a_histogram_and_words_do_not():
    from datetime import UTC, datetime

    from core.hl7.field_stats import BINS, FieldStats

    stats = FieldStats(["OBX-5", "MSH-7", "PID-5.1"])
    for value, at in (("105", "20240101083000"), ("98", "20240102"), ("140", "20240103120000"), ("x", "2024")):
        stats.add(f"MSH|^~\\&|A|B|C|D|{at}||ORU^R01|1|P|2.5\rPID|1||1||DOE\rOBX|1|NM|GLU||{value}", None)
    obx, msh, pid = stats.report()
    assert "histogram" not in obx  # one value in four is not a number: not nine in ten
    assert "histogram" not in pid
    stats = FieldStats(["OBX-5", "MSH-7"])
    for value, at in (("105", "20240101083000"), ("98", "20240102"), ("140", "20240103120000-0500")):
        stats.add(f"MSH|^~\\&|A|B|C|D|{at}||ORU^R01|1|P|2.5\rOBX|1|NM|GLU||{value}", None)
    obx, msh = stats.report()
    assert obx["histogram"]["kind"] == "number" and sum(obx["histogram"]["counts"]) == 3
    assert obx["histogram"]["edges"][0] == 98 and obx["histogram"]["edges"][-1] == 140
    assert len(obx["histogram"]["counts"]) == BINS and obx["histogram"]["counts"][-1] == 1
    assert msh["histogram"]["kind"] == "time"
    assert msh["histogram"]["edges"][0] == datetime(2024, 1, 1, 8, 30, tzinfo=UTC).timestamp()
