"""The privacy screen: patient identifiers masked for screen sharing (DESIGN.md, safety rules).

Masking works on field positions, the same for the table, the tree and the raw view, so a
value hidden in one place is hidden in all of them.
"""
from __future__ import annotations

from core.hl7.structure import delimiters_of

MASK = "•••"

# names, dates of birth, identifiers, addresses and phone numbers of the patient and of the
# people the message names beside them (next of kin, insured, guarantor)
PHI_FIELDS: dict[str, frozenset[int]] = {
    "PID": frozenset((2, 3, 4, 5, 6, 7, 9, 11, 12, 13, 14, 18, 19, 20, 21, 23)),
    "PD1": frozenset((5,)),
    "NK1": frozenset((2, 4, 5, 6, 12, 16, 30, 31, 32, 33, 37)),
    "IN1": frozenset((16, 18, 19, 36, 49)),
    "IN2": frozenset((1, 2, 6, 8, 25, 61, 63)),
    "GT1": frozenset((2, 3, 4, 5, 6, 7, 8, 12, 19)),
    "MRG": frozenset((1, 2, 3, 4, 7)),
}


HIDDEN = "[The privacy screen hides this content: it is not HL7 v2, so it has no fields to mask by. Turn the " \
         "privacy screen off to read it.]"


def mask_text(text: str) -> str:
    """The message with every patient-identifying field replaced by a mask; structure kept.
    Content that is not HL7 v2 (an engine's XML or JSON, text with no MSH) is hidden whole."""
    if text.lstrip("\ufeff\r\n\t ")[:3] not in ("MSH", "FHS", "BHS"):
        return HIDDEN if text.strip() else text
    d = delimiters_of(text)
    out = []
    for line in text.replace("\r\n", "\r").replace("\n", "\r").split("\r"):
        fields = PHI_FIELDS.get(line[:3])
        if fields:
            parts = line.split(d.field)
            for n in fields:
                if n < len(parts) and parts[n]:
                    parts[n] = MASK
            line = d.field.join(parts)
        out.append(line)
    return "\r".join(out)


def phi_values(*messages: str) -> list[str]:
    """Every identifying value the messages hold (whole fields, repetitions, components and
    subcomponents), longest first: what must not appear in any words shown beside them."""
    found: set[str] = set()
    for text in messages:
        d = delimiters_of(text)
        for line in text.replace("\r\n", "\r").replace("\n", "\r").split("\r"):
            fields = PHI_FIELDS.get(line[:3])
            if not fields:
                continue
            parts = line.split(d.field)
            for n in fields:
                if n < len(parts):
                    found.update(_pieces(parts[n], d))
    return sorted((v for v in found if len(v.strip()) >= 2), key=len, reverse=True)


def _pieces(value: str, d) -> set[str]:
    out = {value}
    for rep in value.split(d.rep) if d.rep else [value]:
        out.add(rep)
        for comp in rep.split(d.comp) if d.comp else [rep]:
            out.add(comp)
            out.update(comp.split(d.sub) if d.sub else [])
    return out


def mask_words(words: str | None, *messages: str) -> str | None:
    """Words about a message (an error, a NAK's text, a finding) with the message's identifying
    values masked; codes, field references, ports and counts stay readable."""
    if not words:
        return words
    for value in phi_values(*messages):
        words = words.replace(value, MASK)
    return words


def mask_known(words: str | None, values: list[str | None]) -> str | None:
    """Words with the given identifying values (a row's patient ID and name parts) masked, for
    words shown where the message itself is not at hand (a queue item's reason)."""
    pieces = {p for v in values if v for p in [v, *v.replace(",", " ").replace("^", " ").split()] if len(p) >= 2}
    for value in sorted(pieces, key=len, reverse=True):
        words = (words or "").replace(value, MASK)
    return words


def mask(value: str | None, on: bool) -> str | None:
    """A single identifying value (a patient column, say), masked when the screen is on."""
    return MASK if on and value else value
