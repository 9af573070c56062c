"""The privacy screen: patient identifiers masked for screen sharing (DESIGN.md, safety rules).

Masking works on field positions, the same for the table, the tree and the raw view, so a
value hidden in one place is hidden in all of them.
"""
from __future__ import annotations

from core.hl7.query import FieldPath
from core.hl7.structure import delimiters_of

MASK = "•••"

# What identifies a patient under HIPAA Safe Harbor, by field, and what kind of value it is
# (core.deidentify replaces each kind its own way): names, dates of birth and death, record,
# account, insurance and licence numbers, addresses, phone numbers, of the patient and of the
# people the message names beside them (next of kin, insured, guarantor, employer). The
# privacy screen masks every one of them.
IDENTIFIERS: dict[str, dict[int, str]] = {
    "PID": {2: "id", 3: "id", 4: "id", 5: "name", 6: "name", 7: "birth", 9: "name", 11: "address", 12: "blank",
            13: "phone", 14: "phone", 18: "id", 19: "id", 20: "id", 21: "id", 23: "text", 29: "date"},
    "PD1": {5: "blank", 10: "id"},
    "NK1": {2: "name", 4: "address", 5: "phone", 6: "phone", 12: "id", 13: "text", 16: "birth", 30: "name",
            31: "phone", 32: "address", 33: "id", 37: "id"},
    "PV1": {19: "id", 50: "id"},
    "IN1": {16: "name", 18: "birth", 19: "address", 36: "id", 49: "id"},
    "IN2": {1: "id", 2: "id", 6: "id", 8: "id", 25: "id", 61: "id", 63: "phone"},
    "GT1": {2: "id", 3: "name", 4: "name", 5: "address", 6: "phone", 7: "phone", 8: "birth", 12: "id", 16: "text",
            17: "address", 18: "phone", 19: "id"},
    "MRG": {1: "id", 2: "id", 3: "id", 4: "id", 5: "id", 6: "id", 7: "name"},
}
PHI_FIELDS: dict[str, frozenset[int]] = {seg: frozenset(fields) for seg, fields in IDENTIFIERS.items()}


def identifies(segment: str, field: int) -> bool:
    """Whether a field identifies a patient: what the privacy screen masks."""
    return field in PHI_FIELDS.get(segment, ())


def path_identifies(path: str) -> bool:
    """Whether a field path (PID-3[*].4, OBX-5) is in a field that identifies a patient."""
    p = FieldPath.parse(path)
    return identifies(p.segment, p.field)


HIDDEN = "[The privacy screen hides this content: it is not HL7 v2, so it has no fields to mask by. Turn the " \
         "privacy screen off to read it.]"


def has_segments(text: str) -> bool:
    """Whether the text is HL7 v2 segments (MSH first, or a batch's header): what has fields to mask by."""
    return text.lstrip("\ufeff\r\n\t ")[:3] in ("MSH", "FHS", "BHS")


def mask_text(text: str) -> str:
    """The message with every patient-identifying field replaced by a mask; structure kept.
    Content that is not HL7 v2 (an engine's XML or JSON, text with no MSH) is hidden whole."""
    if not has_segments(text):
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
