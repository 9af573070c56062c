"""A FHIR exchange's detail: its bodies as a tree whose identifying elements the privacy
screen masks, and the OperationOutcome in words issue by issue."""
from __future__ import annotations

from datetime import datetime

from core.commands.context import Context
from core.commands.detail import OpenDetail
from core.commands.endpoints import ConfigureEndpoint
from core.fhir.tree import build
from core.ingest import Ingestor
from core.store import fhir
from tests.helpers.har import BASE, app_session, archive

NOW = datetime(2026, 12, 1, 9, 0)


def _walk(nodes):
    for n in nodes:
        yield n
        yield from _walk(n.children)


def test_bodies_become_paths_and_identifying_elements_are_phi():
    req = b'{"resourceType": "Patient", "id": "p1", "name": [{"family": "Doe"}], "gender": "female"}'
    resp = b'{"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "invalid"}]}'
    text = (req + resp).decode()
    tree = build(text, (0, len(req)), (len(req), len(resp)), "POST create Patient", "HTTP 422")
    nodes = {n.label: n for n in _walk(tree.segments)}
    assert nodes["Patient.name[0].family"].value == "Doe" and nodes["Patient.name[0].family"].phi
    assert nodes["Patient.id"].phi and not nodes["Patient.gender"].phi
    assert nodes["OperationOutcome.issue[0].code"].value == "invalid"
    assert tree.segments[1].name == "HTTP 422 · OperationOutcome"


def test_a_form_body_is_one_masked_value_and_no_body_says_so():
    form = b"grant_type=client_credentials&client_assertion=(not stored)"
    tree = build(form.decode(), (0, len(form)), (len(form), 0), "POST sign-in", "HTTP 200")
    assert tree.segments[0].phi and tree.segments[0].datatype == "text"
    assert tree.segments[1].text == "(no body)"


def test_the_detail_explains_a_refused_write(store, tmp_path, corpora):
    ConfigureEndpoint(Context(store, now=lambda: NOW)).run("ehr", base_url=BASE, write_enabled=True,
                                                           contracted_writes=["Observation.create"])
    (tmp_path / "app.har").write_bytes(archive(app_session(corpora)))
    Ingestor(store, now=lambda: NOW).ingest_paths([tmp_path / "app.har"])
    refused = next(e for e in fhir.exchanges(store, failed=True) if e["status"] == 422)
    detail = OpenDetail(Context(store, now=lambda: NOW)).run(refused["message_id"])
    assert detail.exchange["status"] == 422 and detail.row["message_type"] == "FHIR create Observation"
    words = "\n".join(detail.explanation)
    assert "HTTP 422" in words and "clinical write" in words and "issue by issue" in words
    assert "(code-invalid) at Immunization.subpotentReason[0].coding[0]" in words
    assert "ACK" not in words
    assert detail.tree.segments[0].name.startswith("POST create Observation")
