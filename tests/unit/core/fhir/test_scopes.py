"""Scope parsing and classification, SMART v1 and v2, with hypothesis for robustness."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from core.fhir.scopes import parse, parse_all


def test_v1_scopes():
    s = parse("patient/Observation.read")
    assert (s.kind, s.context, s.resource, s.interactions, s.version, s.is_write) == (
        "resource", "patient", "Observation", "rs", 1, False)
    w = parse("user/MedicationRequest.write")
    assert w.interactions == "cud" and w.is_write and w.resource_class == "clinical"
    assert parse("system/*.*").interactions == "cruds" and parse("system/*.*").wildcard


def test_v2_scopes_with_granular_parameters():
    s = parse("patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|vital-signs")
    assert s.version == 2 and s.interactions == "rs" and not s.is_write
    assert s.params == (("category", "http://terminology.hl7.org/CodeSystem/observation-category|vital-signs"),)
    assert parse("user/Appointment.cu").resource_class == "clinical"
    assert parse("system/Practitioner.c").resource_class == "administrative"


def test_special_and_invalid_scopes_say_what_they_are():
    assert parse("offline_access").kind == "special" and "refresh token" in parse("offline_access").words
    assert parse("launch/patient").kind == "special"
    for bad, why in [("patient/Observation.sr", "in that order"), ("clinic/Patient.read", "unknown context"),
                     ("patient/Observation.read?x=1", "no query"), ("Observation", "not a SMART scope")]:
        s = parse(bad)
        assert s.kind == "unknown" and why in s.problem


def test_words_for_a_review():
    assert parse("system/Patient.rs").words == "read, search all Patient"
    assert parse("patient/*.cruds").words.endswith("the launch patient's every resource type")


def test_parse_all_takes_strings_and_lists_and_drops_repeats():
    assert [s.text for s in parse_all("openid fhirUser  openid")] == ["openid", "fhirUser"]
    assert [s.text for s in parse_all(["a b", "c"])] == ["a", "b", "c"]
    assert parse_all(None) == []


@given(st.text())
def test_any_text_parses_without_raising(text):
    for s in parse_all(text):
        assert s.kind in ("resource", "special", "unknown")
        assert isinstance(s.words, str)


@given(st.sampled_from(["patient", "user", "system"]), st.sampled_from(["Observation", "Patient", "*"]),
       st.sets(st.sampled_from("cruds"), min_size=1))
def test_every_v2_letter_set_in_order_is_understood(context, resource, letters):
    action = "".join(c for c in "cruds" if c in letters)
    s = parse(f"{context}/{resource}.{action}")
    assert s.version == 2 and s.interactions == action and s.is_write == bool(letters & set("cud"))
