"""The FHIR lane end to end on both engines: an app's HAR file ingested like any log, every
exchange to a known endpoint stored without a credential, failed writes queued with the
server's words and grouped by signature, flagged writes queued even when the server took
them, and a HAR to no known endpoint left unread with one line that says what to do."""
from __future__ import annotations

from datetime import datetime
from functools import partial

from core.commands.context import Context
from core.commands.endpoints import ConfigureEndpoint
from core.ingest import Ingestor
from core.privacy import HIDDEN, mask, mask_known, mask_text
from core.progress import Progress
from core.store import fhir, messages, queue
from tests.helpers.cli import run
from tests.helpers.har import BASE, app_session, archive, entry

NOW = datetime(2026, 12, 1, 9, 0)


def _endpoint(store, **settings) -> None:
    ConfigureEndpoint(Context(store, now=lambda: NOW)).run(
        "ehr", base_url=BASE, write_enabled=True, contracted_writes=["Observation.create"], **settings)


class _Said(Progress):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def problem(self, text: str) -> None:
        self.lines.append(text)


def _ingest(store, path) -> list[str]:
    said = _Said()
    Ingestor(store, now=lambda: NOW, progress=said).ingest_paths([path])
    return said.lines


def test_an_apps_session_is_stored_judged_and_queued(store, tmp_path, corpora):
    _endpoint(store)
    (tmp_path / "app.har").write_bytes(archive(app_session(corpora)))
    assert _ingest(store, tmp_path / "app.har") == []
    every = fhir.exchanges(store, writes=False)
    assert len(every) == len(app_session(corpora))
    assert {e["interaction"] for e in every} == {"sign-in", "read", "search", "create", "update"}
    for e in every:
        raw = messages.get(store, e["message_id"])["raw"]
        assert b"SECRET" not in raw and b"eyJ" not in raw  # no code, verifier, refresh token or JWT
        assert e["endpoint"] == "ehr" and e["app"] == "vitals-app"
    failed = fhir.exchanges(store, failed=True)
    assert sorted(e["status"] for e in failed) == [404, 422, 422, 429]
    items = {i["message_id"]: i for i in queue.items(store)}
    by_kind = {}
    for e in fhir.exchanges(store, writes=True):
        if e["message_id"] in items:
            by_kind.setdefault(items[e["message_id"]]["kind"], []).append(e)
    assert sorted(e["status"] for e in by_kind["fhir_write_failed"]) == [404, 422, 422, 429]
    [med] = by_kind["fhir_write_flagged"]
    assert med["resource_type"] == "MedicationRequest" and med["ok"]
    reason = items[med["message_id"]]["reason"]
    assert "not among the writes contracted" in reason and "no scope of the token allows" in reason
    invalid = [items[e["message_id"]] for e in failed if e["status"] == 422]
    assert invalid[0]["signature"] == invalid[1]["signature"]  # the same refusal is one group
    assert "Immunization.subpotentReason[0].coding[0]" in invalid[0]["reason"]


def test_reading_the_file_again_stores_nothing_twice(store, tmp_path, corpora):
    _endpoint(store)
    (tmp_path / "app.har").write_bytes(archive(app_session(corpora)))
    _ingest(store, tmp_path / "app.har")
    _ingest(store, tmp_path / "app.har")
    assert len(fhir.exchanges(store, writes=False)) == len(app_session(corpora))


def test_a_har_to_no_known_endpoint_is_left_unread_with_what_to_do(store, tmp_path, corpora):
    (tmp_path / "app.har").write_bytes(archive(app_session(corpora)))
    [said] = _ingest(store, tmp_path / "app.har")
    assert "none of its 9 requests is to a FHIR endpoint Lanewatch knows (fhir.example.test (9))" in said
    assert "lanewatch endpoint add" in said
    _endpoint(store)
    assert _ingest(store, tmp_path / "app.har") == []  # added: the same file is read now
    assert len(fhir.exchanges(store, writes=False)) == 9


def test_requests_to_other_hosts_are_passed_over_and_counted(store, tmp_path):
    _endpoint(store)
    (tmp_path / "mixed.har").write_bytes(archive([
        entry("GET", BASE + "/Patient/1", status=200),
        entry("GET", "https://cdn.example.test/app.js", status=200),
        entry("GET", "https://cdn.example.test/app.css", status=200)]))
    [said] = _ingest(store, tmp_path / "mixed.har")
    assert "2 requests to hosts with no endpoint configured passed over: cdn.example.test (2)" in said
    assert len(fhir.exchanges(store, writes=False)) == 1


def test_a_damaged_archive_or_entry_is_queued_with_why(store, tmp_path):
    _endpoint(store)
    (tmp_path / "cut.har").write_bytes(archive([entry("GET", BASE + "/Patient/1", status=200)])[:-40])
    (tmp_path / "bad.har").write_bytes(archive([entry("GET", BASE + "/Patient/1", status=200), {"request": 1}]))
    Ingestor(store, now=lambda: NOW).ingest_paths([tmp_path / "cut.har", tmp_path / "bad.har"])
    reasons = sorted(i["reason"] for i in queue.items(store))
    assert any(r.startswith("A HAR file that cannot be read: the archive breaks off") for r in reasons)
    assert any("a HAR entry that cannot be read" in r for r in reasons)
    assert len(fhir.exchanges(store, writes=False)) == 1


def test_the_privacy_screen_hides_an_exchange_and_its_patient(store, tmp_path, corpora):
    _endpoint(store)
    (tmp_path / "app.har").write_bytes(archive(app_session(corpora)))
    _ingest(store, tmp_path / "app.har")
    read = next(e for e in fhir.exchanges(store, writes=False) if e["interaction"] == "read")
    row = messages.get(store, read["message_id"])
    assert (row["patient_id"], row["patient_name"]) == ("Patient/example", "Shaw^Amy V.")
    assert mask_text(row["raw"].decode()) == HIDDEN
    assert mask(row["patient_id"], True) != row["patient_id"]
    assert "Shaw" not in mask_known("about Shaw Amy", [row["patient_id"], row["patient_name"]])


def test_headless_listing_of_writes(store, store_url, tmp_path, corpora, capsys):
    _endpoint(store)
    (tmp_path / "app.har").write_bytes(archive(app_session(corpora)))
    _ingest(store, tmp_path / "app.har")
    code, out, _ = run(capsys, store_url, "fhir-writes", "--failed")
    assert code == 4 and out.count("\n") == 4 and "HTTP 422" in out
    code, out, err = run(capsys, store_url, "fhir-writes", "--endpoint", "nope")
    assert code == 1 and "No endpoint called 'nope'" in err


def _in_parts_of(monkeypatch, most: int) -> None:
    import core.ingest
    from core.message_rows import read_parts

    monkeypatch.setattr(core.ingest, "read_parts", partial(read_parts, part_messages=most))


def test_a_large_archive_is_read_in_parts_that_resume_where_the_last_ended(tmp_path):
    from core.message_rows import read_parts

    path = tmp_path / "big.har"
    path.write_bytes(archive([entry("GET", f"{BASE}/Patient/{n}", status=200) for n in range(7)]))
    parts = list(read_parts(path, 0, True, part_messages=3))
    assert [len(p.entries) for p in parts] == [3, 3, 1]
    position = 0
    for p in parts:
        assert p.entries[0][1] >= position and p.offset == position + p.used
        position = p.offset
    assert position == path.stat().st_size and parts[-1].at_end and not any(p.at_end for p in parts[:-1])
    assert [len(p.entries) for p in read_parts(path, parts[0].offset, True, part_messages=3)] == [3, 1]  # resumed


def test_parts_to_other_hosts_only_are_passed_over_once_something_is_stored(store, tmp_path, monkeypatch):
    _in_parts_of(monkeypatch, 2)
    _endpoint(store)
    (tmp_path / "mixed.har").write_bytes(archive(
        [entry("GET", f"https://cdn.example.test/{n}.js", status=200) for n in range(4)] +
        [entry("GET", f"{BASE}/Patient/{n}", status=200) for n in range(3)]))
    [said] = _ingest(store, tmp_path / "mixed.har")  # one line for the file, not one a part
    assert "4 requests to hosts with no endpoint configured passed over: cdn.example.test (4)" in said
    assert len(fhir.exchanges(store, writes=False)) == 3
    assert _ingest(store, tmp_path / "mixed.har") == []  # read to its end: nothing again


def test_an_archive_in_parts_to_no_known_endpoint_is_left_unread_whole(store, tmp_path, monkeypatch):
    _in_parts_of(monkeypatch, 2)
    (tmp_path / "app.har").write_bytes(archive([entry("GET", f"{BASE}/Patient/{n}", status=200) for n in range(5)]))
    [said] = _ingest(store, tmp_path / "app.har")
    assert "none of its 5 requests is to a FHIR endpoint Lanewatch knows (fhir.example.test (5))" in said
    _endpoint(store)
    assert _ingest(store, tmp_path / "app.har") == []
    assert len(fhir.exchanges(store, writes=False)) == 5


def test_of_two_endpoints_on_one_base_the_apps_own_is_chosen(store, tmp_path, corpora):
    configure = ConfigureEndpoint(Context(store, now=lambda: NOW))
    configure.run("ehr backend", base_url=BASE, client_id="lanewatch", auth="none")
    configure.run("vitals", base_url=BASE, client_id="vitals-app", auth="none")
    (tmp_path / "app.har").write_bytes(archive(app_session(corpora)))
    assert _ingest(store, tmp_path / "app.har") == []
    assert {e["endpoint"] for e in fhir.exchanges(store)} == {"vitals"}
