"""The Mirth REST API's XML, read from the API's own examples (../shared/corpora/mirth) as
they are, and the loopback engine's answers checked against the same shapes."""
from __future__ import annotations

import httpx2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from core.engines import mapping, xstream
from core.engines.loopback import LoopbackEngine, demo_channels
from core.vocabulary import QueueKind

EXAMPLES = "mirth/python-mirth-client/tests/examples/3.12.0/responses"
READERS = {  # every response example of the calls Lanewatch makes, with the reader for it
    "get-messages.xml": xstream.messages, "get-messages.multiple.xml": xstream.messages,
    "post-messages.xml": xstream.messages, "get-message.xml": xstream.messages, "get-message.error.xml": xstream.messages,
    "get-channelList.xml": xstream.channels, "get-channelList.multiple.xml": xstream.channels,
    "get-channel.xml": xstream.channels, "get-channel_statistics_list.xml": xstream.statistics,
    "get-channel_statistics_list.multiple.xml": xstream.statistics, "get-channel_statistics.xml": xstream.statistics,
    "post-channel_statistics_list.xml": xstream.statistics, "get-dashboard_status_list.xml": xstream.statuses,
    "get-dashboard_status_list.multiple.xml": xstream.statuses, "get-dashboard_status.xml": xstream.statuses,
    "post-dashboard_status_list.xml": xstream.statuses, "post-loginStatus.xml": xstream.login_status,
    "get-messageId.xml": xstream.scalar, "get-messageCount.xml": xstream.scalar, "post-messageCount.xml": xstream.scalar,
}


@pytest.fixture
def examples(corpora):
    return corpora / EXAMPLES


@pytest.mark.parametrize("name", sorted(READERS))
def test_every_response_example_parses_as_it_is(examples, name):
    assert READERS[name]((examples / name).read_bytes()) is not None


def test_the_error_example_reads_as_the_engine_gave_it(examples):
    [m] = xstream.messages((examples / "get-message.error.xml").read_bytes())
    assert (m.message_id, m.channel_id, m.processed) == (1, "0288e3d8-e7f6-49de-91a3-53223c807893", True)
    source, [dest] = m.source, m.destinations
    assert (source.name, source.status, source.raw.data_type) == ("Source", "TRANSFORMED", "XML")
    assert (dest.name, dest.status) == ("Error Generator", "ERROR")
    assert dest.processing_error.startswith("JavaScript Writer error\nERROR MESSAGE: Error evaluating JavaScript Writer")
    assert dest.status_message.startswith("Error evaluating JavaScript Writer [JavaScriptException: Error: Test Error")


def test_the_error_example_maps_to_its_contents_and_an_item_in_the_engines_words(examples):
    [m] = xstream.messages((examples / "get-message.error.xml").read_bytes())
    entries = mapping.entries(m, "Outbound Error Channel")
    assert [(e.meta_data_id, e.role, e.data_type) for e in entries] == [(0, "received", "XML"), (1, "sent", "XML"),
                                                                          (1, "response", "XML")]
    assert entries[0].raw.startswith(b'<?xml version="1.0" encoding="UTF-8" ?>\n<root>')
    problem = entries[1].problem
    assert problem.kind == QueueKind.ENGINE_ERROR
    assert "Outbound Error Channel → Error Generator" in problem.reason and "Error: Test Error" in problem.reason
    assert problem.signature.detail == "JavaScript Writer error"
    assert not entries[1].duplicate_check and entries[0].duplicate_check


def test_the_statistics_and_dashboard_examples_give_counts_and_states(examples):
    [stats] = xstream.statistics((examples / "get-channel_statistics_list.xml").read_bytes()).values()
    assert stats == xstream.Statistics(0, 0, 0, 0, 0)
    [status] = xstream.statuses((examples / "get-dashboard_status_list.xml").read_bytes()).values()
    assert (status.name, status.state) == ("Channel Name", "STARTED")
    [channel] = xstream.channels((examples / "get-channelList.xml").read_bytes())
    assert (channel.name, channel.destinations) == ("Channel 1", {1: "Destination 1"})


def _paths(root, prefix="") -> set[str]:
    here = f"{prefix}/{root.tag}"
    out = {here}
    for child in root:
        if isinstance(child.tag, str):
            out |= _paths(child, here)
    return out


# Fields of Mirth's Message model that its examples leave out because they are null there
# (XStream writes a field only when it has a value): a reprocessed message's originalId.
NULL_IN_EXAMPLES = {"/list/message/originalId"}


@pytest.mark.parametrize("call, examples_named", [
    ("/api/channels/5f1c8a7e-0002-4c2a-9d6e-1a2b3c4d5e02/messages?minMessageId=1&maxMessageId=60&includeContent=true&limit=60",
     ("get-messages.xml", "get-messages.multiple.xml", "post-messages.xml")),
    ("/api/channels", ("get-channelList.xml", "get-channelList.multiple.xml")),
    ("/api/channels/statistics", ("get-channel_statistics_list.xml",)),
    ("/api/channels/statuses", ("get-dashboard_status_list.xml",)),
])
def test_the_loopback_engine_answers_in_the_shapes_of_the_examples(examples, call, examples_named):
    """Every element path the loopback writes is one the API's own examples hold (the single
    message example's paths count for the list's messages too)."""
    known = set(NULL_IN_EXAMPLES)
    for name in examples_named + ("get-message.error.xml",):
        root = etree.fromstring((examples / name).read_bytes())
        known |= {p if p.startswith("/list") else "/list" + p for p in _paths(root)}
    with LoopbackEngine(demo_channels()) as engine:
        with httpx2.Client(base_url=engine.url, headers={"X-Requested-With": "test"}) as http:
            http.post("/api/users/_login", data={"username": "admin", "password": "admin"}).raise_for_status()
            body = http.get(call).content
    written = _paths(etree.fromstring(body))
    assert written - known == set()


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400) | st.text(max_size=300).map(lambda t: f"<list><message>{t}</message></list>".encode()))
def test_any_answer_is_read_or_refused_in_words(body):
    try:
        xstream.messages(body)
    except xstream.XStreamError as exc:
        assert str(exc)
