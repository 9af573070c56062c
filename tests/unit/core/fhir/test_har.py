"""HAR files read as FHIR exchanges: walked entry by entry with where each lies, a damaged
entry costing itself alone, a damaged archive said in words, and no secret kept."""
from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.fhir import har
from tests.helpers.har import BASE, TOKEN_URL, app_session, archive, entry


def test_every_entry_is_read_with_where_it_lies(corpora):
    data = archive(app_session(corpora))
    found = list(har.entries(data))
    assert len(found) == len(app_session(corpora))
    for e in found:
        doc = json.loads(data[e.start:e.end])
        assert doc["request"]["url"] == e.exchange.url
    assert found[1].exchange.method == "GET" and found[1].exchange.status == 200


def test_a_sign_in_keeps_no_secret_and_says_what_was_granted(corpora):
    sign_in = next(har.entries(archive(app_session(corpora))))
    ex = sign_in.exchange
    assert ex.url == TOKEN_URL
    for secret in (b"SECRET-CODE", b"SECRET-VERIFIER", b"SECRET-REFRESH", b"access_token\": \"ey"):
        assert secret not in ex.request_body + ex.response_body
    assert ex.app == "vitals-app" and "patient/Observation.write" in ex.scopes


def test_an_opaque_token_is_known_by_the_sign_in_that_handed_it_out():
    data = archive([
        entry("POST", TOKEN_URL, status=200, body="grant_type=client_credentials&client_id=batch",
              answer={"access_token": "OPAQUE", "scope": "system/Observation.rs", "expires_in": 300}),
        entry("GET", BASE + "/Observation?code=x", status=200, token="OPAQUE"),
        entry("GET", BASE + "/Observation?code=x", status=200, token="UNKNOWN"),
    ])
    _, known, unknown = (e.exchange for e in har.entries(data))
    assert (known.scopes, known.app) == ("system/Observation.rs", "batch")
    assert unknown.scopes is None


def test_a_damaged_entry_costs_itself_alone():
    good = entry("GET", BASE + "/Patient/1", status=200)
    data = archive([good, {"request": {"url": "no method"}}, good])
    found = list(har.entries(data))
    assert [e.exchange is None for e in found] == [False, True, False]
    assert "cannot be read" in found[1].problem


@pytest.mark.parametrize(("data", "words"), [
    (b'{"log": {"version": "1.2"}}', "no entries"),
    (b'{"log": {"entries": [{"request": {', "breaks off"),
    (b'{"log": {"entries": [\xff]}}', "not UTF-8"),
    (b'{"other": 1}', "no log"),
])
def test_a_damaged_archive_is_said_in_words(data, words):
    with pytest.raises(ValueError, match=words):
        list(har.entries(data))


def test_a_har_is_recognised_by_its_first_bytes():
    assert har.is_har(b'\xef\xbb\xbf  {\n  "log": {\n "version"')
    assert not har.is_har(b"MSH|^~\\&|")
    assert not har.is_har(b'{"resourceType": "Bundle"}')


@given(st.binary(max_size=400))
def test_any_bytes_are_entries_or_a_value_error(data):
    try:
        for e in har.entries(b'{"log": {"entries": [' + data):
            assert 0 <= e.start <= e.end
    except ValueError:
        pass


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.sampled_from(
                        ["request", "response", "method", "url", "headers", "status", "content", "text", "postData",
                         "name", "value", "time", "startedDateTime"]), c, max_size=4), max_leaves=20))
def test_any_json_entry_is_an_exchange_or_a_problem_in_words(doc):
    [e] = har.entries(json.dumps({"log": {"entries": [doc]}}).encode())
    assert (e.exchange is None) == bool(e.problem)
