"""De-identified copies of HL7 v2 messages, to send a vendor (issue 19).

The HIPAA Safe Harbor identifiers (core.privacy.IDENTIFIERS: names, record and account
numbers, addresses, phone numbers, birth dates of the patient and of the people named beside
them) are replaced by pseudonyms: the same value gives the same pseudonym within one export,
keyed by a secret drawn for that export alone and never kept, so two exports cannot be joined.
Every date the standard types as one (TS, DTM, DT, DR, in any segment) is moved back by the
same number of days for one patient, so intervals hold; a birth date that would show an age
over 89 keeps only the year that says "90 or older".

Fails closed: free text (Z-segments, NTE-3, OBX-5 unless the value is coded or numeric, the
fields the standard types TX or FT, OBR-13, MSA-3, ERR-7 and ERR-8) is blanked unless the
operator allows the field. Structure is kept: every segment, field, repetition and component
separator stays where it was, and every byte outside what is replaced is the original's.

Messages are read as Latin-1, so each byte is one character and bytes beyond ASCII (a name in
UTF-8, say) pass through untouched wherever they are not replaced.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections import Counter
from datetime import date, timedelta

from core.hl7.structure import delimiters_of, is_segment, names_version, segment_ref
from core.privacy import IDENTIFIERS

DATE_TYPES = frozenset(("TS", "DTM", "DT"))
TEXT_TYPES = frozenset(("TX", "FT"))
FREE_TEXT = {"NTE": frozenset((3,)), "OBR": frozenset((13,)), "MSA": frozenset((3,)), "ERR": frozenset((7, 8))}
# OBX-5 is kept when OBX-2 says the value is one of these (codes, numbers, times); dates are moved
OBX_KEPT = frozenset(("CE", "CWE", "CNE", "CF", "NM", "SN", "NR", "ID", "IS", "CQ", "MO", "TM"))
OBX_DATES = frozenset(("DT", "DTM", "TS"))
MAX_AGE = 89
NOT_SEGMENT = "lines that are not segments"
# components kept in each kind of identifier (1-based): codes that say what a value is, not whose
KEPT = {"id": frozenset((4, 5)), "name": frozenset((7,)), "address": frozenset((4, 6, 7)),
        "phone": frozenset((2, 3, 5))}
ALLOWABLE = re.compile(r"[A-Z][A-Z0-9]{2}(-\d{1,3})?")  # what may be allowed: a field (NTE-3) or a segment (ZPI)
_TIME = re.compile(r"(\d{4})(\d{2})?(\d{2})?([\d.+\-]*)")
_CONSONANTS, _VOWELS = "BDFGKLMNPRSTVZ", "AEIOU"


def not_allowable(allow: list[str]) -> list[str]:
    """The names in `allow` that are neither a field (NTE-3) nor a segment (ZPI)."""
    return [a for a in allow if not ALLOWABLE.fullmatch(a.strip().upper())]


class Deidentifier:
    """One export's de-identification: its key, the fields the operator allows to keep their
    free text ("NTE-3", "ZPI" for a whole segment, "OBX-5"), and what it blanked, counted."""

    def __init__(self, allow: list[str] | tuple[str, ...] = (), key: bytes | None = None) -> None:
        self.key = key or secrets.token_bytes(32)
        self.allow = frozenset(a.strip().upper() for a in allow if a.strip())
        self.blanked: Counter[str] = Counter()  # "NTE-3": how many messages had it blanked

    def message(self, text: str) -> str:
        d = delimiters_of(text)
        lines = re.split(r"(\r\n|\r|\n)", text)
        version = names_version(_msh12(lines[0], d.field))[0]
        shift = self._shift(lines, d)
        at = _message_day(lines[0], d.field)
        blanked: set[str] = set()
        for i in range(0, len(lines), 2):
            line = lines[i]
            seg = line[:3]
            if not is_segment(line, d.field):
                if line.strip():  # not a segment: nothing says what it holds, so nothing of it is kept
                    lines[i] = _blank(line, d, d.field)
                    blanked.add(NOT_SEGMENT)
                continue
            if seg == "PID":
                shift = self._patient_shift(line, d)
            lines[i] = self._segment(line, seg, d, version, shift, at, blanked)
        self.blanked.update(blanked)
        return "".join(lines)

    def _segment(self, line, seg, d, version, shift, at, blanked) -> str:
        parts = line.split(d.field)
        first = 2 if seg == "MSH" else 1  # MSH-1 is the separator itself: MSH-n is parts[n - 1]
        ref = segment_ref(seg, version) or segment_ref(seg, "2.5.1")
        kinds = IDENTIFIERS.get(seg, {})
        free = FREE_TEXT.get(seg, frozenset())
        obx_type = parts[2].split(d.comp)[0] if seg == "OBX" and len(parts) > 2 else ""
        for i in range(first, len(parts)):
            value = parts[i]
            n = i + 1 if seg == "MSH" else i
            if not value or value == '""':
                continue
            dtype = ref[n][2] if n in ref else ""
            kind = kinds.get(n)
            if kind == "birth":
                parts[i] = _reps(value, d, lambda v: _birth(v, d, shift, at))
            elif kind:
                parts[i] = _reps(value, d, lambda v, k=kind: self._identifier(k, v, d, shift))
            elif seg.startswith("Z") or n in free or dtype in TEXT_TYPES or (seg == "OBX" and n == 5 and obx_type not in OBX_KEPT | OBX_DATES):
                if f"{seg}-{n}" not in self.allow and seg not in self.allow:
                    parts[i] = _blank(value, d)
                    blanked.add(f"{seg}-{n}")
            elif dtype in DATE_TYPES or (seg == "OBX" and n == 5 and obx_type in OBX_DATES):
                parts[i] = _reps(value, d, lambda v: _date(v, d, shift))
            elif dtype == "DR":
                parts[i] = _reps(value, d, lambda v: d.comp.join(_date(c, d, shift) for c in v.split(d.comp)))
        return d.field.join(parts)

    def _identifier(self, kind: str, value: str, d, shift: int) -> str:
        if kind == "blank":
            return _blank(value, d)
        comps = value.split(d.comp)
        if kind == "date":  # a birth or death: only the time stays, moved; nothing beside it
            return d.comp.join([_date(comps[0], d, shift)] + [_blank(c, d) for c in comps[1:]])
        if kind == "text":
            return d.comp.join([self._each(comps[0], d, lambda v: self._word("text", v, 3))] + [_blank(c, d) for c in comps[1:]])
        kept = KEPT[kind]
        out = []
        for n, c in enumerate(comps, start=1):
            if not c or c == '""' or n in kept:
                out.append(c)
            elif kind == "id" and n == 1 or kind == "phone" and n in (1, 6, 7):
                least = 8 if kind == "id" else 7 if n != 6 else 0  # a phone number of 7 digits or more; an area code as it was
                out.append(self._each(c, d, lambda v, least=least: self._shape(kind, v, least)))
            elif kind == "name" and n in (1, 2, 3):
                out.append(self._each(c, d, lambda v, n=n: self._word(f"name{n}", v, 3)))
            elif kind == "address" and n == 1:
                out.append(self._each(c, d, lambda v: f"{self._digits('street', v, 3)} {self._word('street', v, 2).title()} St"))
            elif kind == "address" and n == 3:
                out.append(self._each(c, d, lambda v: self._word("city", v, 3).title()))
            elif kind == "phone" and n == 4:
                out.append(self._each(c, d, lambda v: f"{self._word('email', v, 3).lower()}@example.invalid"))
            else:
                out.append(_blank(c, d))
        return d.comp.join(out)

    def _each(self, value: str, d, change) -> str:
        """Each subcomponent changed (a name's parts), empty ones left empty; what a change makes
        never holds a separator (a fuzzer's message may use a digit or a letter as one)."""
        unsafe = {ord(c): None for c in d.field + d.rep + d.comp + d.sub}
        return d.sub.join(change(v).translate(unsafe) if v and v != '""' else v for v in value.split(d.sub))

    def _mac(self, kind: str, value: str) -> bytes:
        return hmac.new(self.key, f"{kind}\x00{value}".encode("latin-1"), hashlib.sha256).digest()

    def _shape(self, kind: str, value: str, least: int) -> str:
        """Each digit a digit and each letter a letter (its case kept), punctuation kept: a record
        number still looks like one to the vendor's system. Shorter than `least`: padded with
        digits, so a short ID cannot come out as another patient's."""
        plain = re.sub(r"\\[^\\]*\\", "", value)  # escape sequences dropped: their letters are not data
        mac = b"".join(self._mac(kind, f"{value}\x00{k}") for k in range(len(plain) // 32 + 2))
        out = [_CONSONANTS[mac[i] % 14] if ch.isalpha() else str(mac[i] % 10) if ch.isdigit() else ch
               for i, ch in enumerate(plain)]
        shaped = "".join(c.lower() if o.islower() else c for c, o in zip(out, plain))
        pad = max(0, least - len(shaped))
        return "".join(str(b % 10) for b in mac[-pad:]) + shaped if pad else shaped

    def _word(self, kind: str, value: str, syllables: int) -> str:
        mac = self._mac(kind, value)
        word = "".join(_CONSONANTS[mac[2 * i] % 14] + _VOWELS[mac[2 * i + 1] % 5] for i in range(syllables + 1))
        return word if value.isupper() or not value.strip() else word.title()

    def _digits(self, kind: str, value: str, n: int) -> str:
        return str(int.from_bytes(self._mac(kind, value)[:8], "big") % 10 ** n + 1)

    def _patient_shift(self, pid: str, d) -> int:
        parts = pid.split(d.field)
        who = (parts[3].split(d.rep)[0].split(d.comp)[0] if len(parts) > 3 else "") or (parts[5] if len(parts) > 5 else "")
        return 1 + int.from_bytes(self._mac("shift", who)[:8], "big") % 365

    def _shift(self, lines: list[str], d) -> int:
        """The days the message's dates move back before its first PID: that patient's."""
        pid = next((line for line in lines[::2] if line[:3] == "PID"), "PID")
        return self._patient_shift(pid, d)


def _reps(value: str, d, each) -> str:
    return d.rep.join(each(r) if r else r for r in value.split(d.rep))


def _first(value: str, sep: str, change) -> str:
    head, *rest = value.split(sep)
    return sep.join([change(head), *rest])


def _blank(value: str, d, also: str = "") -> str:
    """The value emptied, its separators kept."""
    return re.sub(f"[^{re.escape(d.rep + d.comp + d.sub + also)}]", "", value)



def _shifted(value: str, days: int, d) -> str:
    """A time moved back `days`; a month with no day keeps its year only; what is not a time is
    blanked (its separators kept)."""
    if not value or value == '""':
        return value
    m = _TIME.fullmatch(value.strip())
    if not m:
        return _blank(value, d)
    year, month, day, rest = m.groups()
    if month is None or day is None:
        return year
    try:
        moved = date(int(year), int(month), int(day)) - timedelta(days=days)
    except ValueError:
        return _blank(value, d)
    return f"{moved:%Y%m%d}{rest}"


def _date(value: str, d, days: int) -> str:
    """A date field's time (its first component's first part) moved back."""
    return _first(value, d.comp, lambda head: _first(head, d.sub, lambda t: _shifted(t, days, d)))


def _birth(value: str, d, days: int, at: date | None) -> str:
    head = value.split(d.comp)[0].split(d.sub)[0]
    shifted = _shifted(head, days, d)
    if at is not None and len(shifted) >= 4 and shifted[:4].isdigit() and at.year - int(shifted[:4]) > MAX_AGE:
        shifted = str(at.year - MAX_AGE - 1)  # "90 or older": Safe Harbor's one category for great ages
    head, *rest = value.split(d.comp)
    return d.comp.join([_first(head, d.sub, lambda _: shifted)] + [_blank(c, d) for c in rest])


def _msh12(msh: str, sep: str) -> str | None:
    parts = msh.split(sep)
    return parts[11] if msh[:3] == "MSH" and len(parts) > 11 else None


def _message_day(msh: str, sep: str) -> date | None:
    parts = msh.split(sep)
    m = _TIME.fullmatch(parts[6].split("^")[0]) if msh[:3] == "MSH" and len(parts) > 6 else None
    try:
        return date(int(m.group(1)), int(m.group(2) or 1), int(m.group(3) or 1)) if m else None
    except ValueError:
        return None
