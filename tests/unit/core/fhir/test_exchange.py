"""One FHIR exchange: which REST interaction a request is, what the server answered (in the
words of the corpus's real OperationOutcomes), and what is stored (never a credential)."""
from __future__ import annotations

import json

import pytest

from core.fhir.exchange import Exchange, answer, identifier, interaction, patient_name, patient_of, render, scopes_of
from tests.helpers.har import BASE, corpus_json, jwt


@pytest.mark.parametrize(("method", "path", "headers", "expected"), [
    ("GET", "/Patient/123", {}, ("read", "Patient", "123", None, False)),
    ("GET", "/Patient/123/_history/2", {}, ("vread", "Patient", "123", None, False)),
    ("GET", "/Patient/123/_history", {}, ("history", "Patient", "123", None, False)),
    ("GET", "/Observation?patient=123&category=vital-signs", {}, ("search", "Observation", None, None, False)),
    ("POST", "/Observation/_search", {}, ("search", "Observation", None, None, False)),
    ("POST", "/Observation", {}, ("create", "Observation", None, None, False)),
    ("POST", "/Observation", {"If-None-Exist": "identifier=x|1"}, ("create", "Observation", None, None, True)),
    ("PUT", "/Observation/9", {}, ("update", "Observation", "9", None, False)),
    ("PUT", "/Observation?identifier=x|1", {}, ("update", "Observation", None, None, True)),
    ("PATCH", "/Observation/9", {}, ("patch", "Observation", "9", None, False)),
    ("DELETE", "/Observation/9", {}, ("delete", "Observation", "9", None, False)),
    ("POST", "", {}, ("transaction", "Bundle", None, None, False)),
    ("GET", "/metadata", {}, ("capabilities", "CapabilityStatement", None, None, False)),
    ("GET", "/Patient/$export", {}, ("operation", "Patient", None, "$export", False)),
    ("GET", "/Patient/123/$everything", {}, ("operation", "Patient", "123", "$everything", False)),
    ("GET", "/Group/all/$export", {}, ("operation", "Group", "all", "$export", False)),
])
def test_the_interaction_is_read_from_method_and_path(method, path, headers, expected):
    it = interaction(method, BASE + path, BASE + "/", list(headers.items()))
    assert (it.name, it.resource_type, it.resource_id, it.operation, it.conditional) == expected


def test_a_refusal_is_said_in_the_operation_outcomes_words_with_its_path(corpora):
    invalid = corpus_json(corpora, "operation-outcome/inferno-g10/OperationOutcome-code-invalid.json")
    said = answer(Exchange("POST", BASE + "/Immunization", None, status=422, response_body=json.dumps(invalid).encode()))
    assert not said.ok
    assert said.words.startswith("HTTP 422")
    assert "Unknown Code" in said.words
    assert said.issues[0]["expression"] == ["Immunization.subpotentReason[0].coding[0]"]


def test_a_success_carrying_an_error_issue_is_not_ok(corpora):
    not_found = corpus_json(corpora, "operation-outcome/cerner/soarian_R4_BULK_STATUS_REQUEST_ERROR.json")
    said = answer(Exchange("GET", BASE + "/x", None, status=200, response_body=json.dumps(not_found).encode()))
    assert not said.ok and "Population Group" in said.words


def test_an_information_issue_on_a_success_says_nothing(corpora):
    info = corpus_json(corpora, "operation-outcome/cerner/soarian_R4_BULK_KICKOFF_REQUEST.json")
    said = answer(Exchange("GET", BASE + "/x", None, status=202, response_body=json.dumps(info).encode()))
    assert said.ok and said.words == ""


def test_rate_limits_say_whether_a_retry_after_came():
    with_wait = answer(Exchange("GET", BASE, None, status=429, response_headers=[("Retry-After", "30")]))
    without = answer(Exchange("GET", BASE, None, status=429))
    assert (with_wait.retry_after, without.retry_after) == ("30", None)
    assert "Retry-After: 30" in with_wait.words and "no Retry-After" in without.words


def test_no_response_is_a_failure_with_why():
    said = answer(Exchange("POST", BASE + "/Observation", None, status=0, problem="net::ERR_CONNECTION_RESET"))
    assert not said.ok and "ERR_CONNECTION_RESET" in said.words


def test_credentials_are_never_stored_and_bodies_are_byte_exact():
    body = b'{"resourceType": "Observation",\n  "status": "final"}'
    ex = Exchange("POST", BASE + "/Observation", None,
                  request_headers=[("Authorization", "Bearer SECRET-TOKEN"), ("Cookie", "s=SECRET-COOKIE")],
                  request_body=body, status=201, response_headers=[("Set-Cookie", "SECRET-SET")], response_body=b"{}")
    raw, (req_at, req_len), (resp_at, resp_len) = render(ex)
    assert b"SECRET" not in raw
    assert raw[req_at:req_at + req_len] == body and raw[resp_at:resp_at + resp_len] == b"{}"


def test_a_jwt_says_its_scopes_and_client_and_an_opaque_token_says_nothing():
    assert scopes_of(jwt({"scope": "patient/*.read", "client_id": "app"})) == ("patient/*.read", "app")
    assert scopes_of(jwt({"scp": ["a", "b"], "azp": "x"})) == ("a b", "x")
    assert scopes_of("opaque-token") == (None, None)
    assert scopes_of("a.b.c") == (None, None)


def test_patient_and_identifier_of_us_core_examples(corpora):
    patient = corpus_json(corpora, "us-core/examples/patient-example.json")
    med = corpus_json(corpora, "us-core/examples/medicationrequest-coded-oral-axid.json")
    assert patient_of(patient) == "Patient/example" and patient_of(med) == "Patient/example"
    assert patient_name(patient) == "Shaw^Amy V."
    assert identifier(patient) == "http://example.org/patient/identifiers|1032702"
    assert identifier(med) is None
