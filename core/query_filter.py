"""A field-path query (core.hl7.query) as a message filter: the console's Where field and
`messages --where` both narrow the store's messages this one way; statistics, drift and
comparing sets read the same messages' text."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from core.hl7.query import Query
from core.store.db import Store
from core.store.messages import MessageFilter, every
from core.vocabulary import ParseState


def hl7_text(row: dict) -> str | None:
    """A stored message's text, read with its bytes, when it is HL7 (mail and documents are
    kept as text, not as segments: no path reads them)."""
    return None if row["parse_state"] == ParseState.TEXT else row["raw"].decode("utf-8", "replace")


def hl7_messages(store: Store, flt: MessageFilter) -> Iterator[tuple[dict, str]]:
    """Each HL7 message the filter picks, oldest first, with its text: what statistics and
    comparing sets read (the rows are lean: id, event_time, parse_state, charset, raw)."""
    for row in every(store, flt, raw=True):
        if (text := hl7_text(row)) is not None:
            yield row, text


def filtered_by(flt: MessageFilter, query: Query) -> MessageFilter:
    """`flt` narrowed to the HL7 messages the query holds for; the words every match holds
    join its free text, so the full-text index finds the candidates first."""
    text = " ".join(w for w in (flt.text, *query.literals) if w) or None
    return replace(flt, text=text, test=lambda row: (t := hl7_text(row)) is not None and query.matches(t))
