"""A field-path query (core.hl7.query) as a message filter: the console's Where field and
`messages --where` both narrow the store's messages this one way."""
from __future__ import annotations

from dataclasses import replace

from core.hl7.query import Query
from core.store.messages import MessageFilter
from core.vocabulary import ParseState


def filtered_by(flt: MessageFilter, query: Query) -> MessageFilter:
    """`flt` narrowed to the HL7 messages the query holds for; the words every match holds
    join its free text, so the full-text index finds the candidates first."""
    text = " ".join(w for w in (flt.text, *query.literals) if w) or None
    return replace(flt, text=text, test=lambda row: row["parse_state"] != ParseState.TEXT
                   and query.matches(row["raw"].decode("utf-8", "replace")))
