"""Field-path queries (issue 19): the grammar corrections use with * for "any", operators on
text, times and numbers, and/or/not; a bad query says what and where; any text either
parses or raises QueryError, and any message either matches or not (never an exception)."""
from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.hl7 import query
from core.hl7.query import QueryError

ORU = ("MSH|^~\\&|QUEST|QUEST_LAB|ECW|NFM|20261203091500||ORU^R01|Q1|P|2.5.1\r"
       "PID|1||MRN1^^^NFM^MR~555-12-3456^^^SSA^SS||DOE^JANE||19800101|F\r"
       "PV1|1|O|ER^1^2\r"
       "OBR|1|ORD1|F12345|GLU^Glucose|||20261203080000\r"
       "OBX|1|NM|GLU^Glucose||250|mg/dL|70-99|HH|||F\r"
       "OBX|2|NM|K^Potassium||4.1|mmol/L|3.5-5.1|N|||F\r"
       "OBX|3|TX|NOTE^Note||see \\T\\ call||||||F\r")
ADT = "MSH|^~\\&|EPIC|MERCY|ECW|NFM|20261203100000||ADT^A08|A1|P|2.5.1\rPID|1||MRN2^^^FEE^MR\r"


@pytest.mark.parametrize(("text", "oru", "adt"), [
    ("MSH-9.1 = ORU", True, False),
    ("msh-9.1 = 'oru'", True, False),  # paths and text ignore case
    ("OBX-8 = HH", True, False),  # the first OBX
    ("OBX-8 = N", False, False),
    ("OBX[*]-8 = N", True, False),  # any OBX
    ("OBX[2]-5 = 4.1", True, False),
    ("OBX[*]-8 in ('H', 'HH')", True, False),
    ("PID-3[*].4 = SSA", True, False),  # any repetition
    ("PID-3.4 = SSA", False, False),  # the first only
    ("PID-3[2].4 = SSA", True, False),
    ("PID-3[*].4 = FEE or MSH-9.2 = R01", True, True),
    ("PV1-3 is empty", False, True),  # a missing segment is empty
    ("PV1-3 is not empty and not PV1-3.1 ~ 'ER*'", False, False),
    ("PV1-3.1 ~ 'E?'", True, False),
    ("OBX[3]-5 = 'see & call'", True, False),  # escapes undone
    ("OBX[*]-5 > 100", True, False),  # numbers as numbers: 250 > 100, "4.1" is not
    ("OBX[2]-5 < 10", True, False),
    ("OBR-7 >= 20261203", True, False),  # times to the precision both have
    ("OBR-7 > 20261203", False, False),
    ("MSH-7 < 202612031000", True, False),
    ("MSH-1 = '|' and MSH-2 = '^~\\&'", True, True),
    ("not (MSH-9.1 = ORU or MSH-9.1 = ADT)", False, False),
    ("MSH-10 != Q1", False, True),
])
def test_a_query_asks_what_an_analyst_means(text, oru, adt):
    q = query.parse(text)
    assert (q.matches(ORU), q.matches(ADT)) == (oru, adt)


def test_the_words_every_match_must_hold_are_given_for_the_index():
    assert query.parse("OBR-3 = 'F12345' and OBX[*]-8 in ('H','HH')").literals == ("F12345",)
    assert query.parse("OBR-3 = F12345 or PID-3.1 = MRN1").literals == ()  # either may be absent
    assert query.parse("not OBR-3 = F12345").literals == ()
    assert query.parse("OBX-5 = 'see & call'").literals == ()  # not one word of the index


@pytest.mark.parametrize(("text", "says", "at"), [
    ("", "the query is empty", 1),
    ("PID-3 =", "ends too soon", 8),
    ("PID3 = x", "expected a field path", 1),
    ("PID-3 == x", "expected a value", 8),
    ("PID-3 = x PID-4 = y", "join conditions with and / or", 11),
    ("(PID-3 = x", "ends too soon", 11),
    ("PID-0 = x", "positions count from 1", 1),
    ("PID-3 in 'x'", "expected '(' after 'in'", 10),
    ("PID-3 in ('x' 'y')", "expected ',' or ')'", 15),
    ("PID-3 is full", "expected 'empty'", 10),
    ("PID-3 = 'unclosed", "unexpected", 9),
])
def test_a_bad_query_says_what_and_where(text, says, at):
    with pytest.raises(QueryError, match=re.escape(says)) as found:
        query.parse(text)
    assert found.value.position + 1 == at


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="PIDOBX-3[*].4 =!<>~'\"()andornotisemptyin,HhN0123", max_size=40))
def test_any_text_parses_or_says_why(text):
    try:
        q = query.parse(text)
    except QueryError:
        return
    q.matches(ORU)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_message_matches_or_not(message):
    for text in ("OBX[*]-8 in ('H','HH')", "PID-3[*].4 = FEE", "MSH-7 > 2026", "PV1-3 is empty", "MSH-2 ~ '*'"):
        assert query.parse(text).matches(message) in (True, False)


def test_a_query_narrows_the_stores_pages_and_its_live_look(store, tmp_path, monkeypatch):
    from core.demo import write_logs
    from core.ingest import Ingestor
    from core.query_filter import filtered_by
    from core.store import messages

    write_logs(tmp_path / "logs", 1500, seed=5)
    Ingestor(store).ingest_paths([tmp_path / "logs"])
    q = query.parse("OBX[*]-8 in ('H','HH') or MSH-9.2 = A08")
    every = [r for r in messages.page(store, messages.MessageFilter(), limit=5000)
             if q.matches(messages.get(store, r["id"])["raw"].decode())]
    monkeypatch.setattr(messages, "CANDIDATES", 7)  # candidates read a few at a time: pages still fill
    flt = filtered_by(messages.MessageFilter(), q)
    first = messages.page(store, flt, limit=10)
    rest = messages.page(store, flt, after=(first[-1]["event_time"], first[-1]["id"]), limit=5000)
    assert [r["id"] for r in first + rest] == [r["id"] for r in every] and len(every) > 20
    assert "raw" not in first[0] and messages.count(store, flt) == len(every)
    newest = every[0]
    assert [r["id"] for r in messages.newer_than(store, flt, None, since_id=newest["id"] - 1)] == [newest["id"]]
    heard, asked = [], []  # progress as it reads, and a search no longer wanted stops with what it has
    stop_after = lambda: asked.append(1) or len(asked) > 3  # noqa: E731
    partial = messages.page(store, flt, limit=5000, told=heard.append, stopped=stop_after)
    assert heard == [7, 14, 21] and len(partial) < len(every)
    assert [r["id"] for r in partial] == [r["id"] for r in every[:len(partial)]]
