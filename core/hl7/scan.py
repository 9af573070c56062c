"""Fast extraction of the header and key fields of one message, from its raw bytes.

This is the ingest hot path (DESIGN.md, "Hot path"): no parse tree, one pass over the
segments, only the segments that carry keys are split into fields.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from core.hl7.encoding import codec_for, unescape

_SEGMENT_ID = re.compile(rb"[A-Z][A-Z0-9]{2}\Z")
_KEY_SEGMENTS = frozenset((b"PID", b"ORC", b"OBR", b"MSA", b"ERR"))

ACK_CODES = frozenset(("AA", "AE", "AR", "CA", "CE", "CR"))
APP_ACK_CODES = frozenset(("AA", "AE", "AR"))

OK = "ok"
INVALID = "invalid"
UNPARSEABLE = "unparseable"

# The keys every scan returns; the store's message columns use the same names.
KEY_NAMES = (
    "sending_app", "sending_facility", "receiving_app", "receiving_facility",
    "message_time", "security", "message_type", "control_id", "processing_id", "version",
    "accept_ack_type", "app_ack_type", "charset", "patient_id", "patient_name",
    "placer_order", "filler_order", "ack_code", "ack_control_id", "ack_text", "errors",
    "segment_count", "parse_state", "reason",
)


class Delimiters:
    __slots__ = ("field", "comp", "rep", "esc", "sub")

    def __init__(self, field: str, enc: str) -> None:
        self.field = field
        self.comp = enc[0:1] or "^"
        self.rep = enc[1:2] or "~"
        self.esc = enc[2:3]
        self.sub = enc[3:4] or "&"

    def text(self, value: str) -> str:
        return unescape(value, self.field, self.comp, self.rep, self.esc, self.sub)

    def first(self, value: str) -> str:
        """First component of the first repetition, unescaped."""
        value = value.split(self.rep, 1)[0].split(self.comp, 1)[0]
        return self.text(value) if self.esc and self.esc in value else value

    def hd(self, value: str) -> str:
        """A hierarchic designator (MSH-3..6): its namespace ID, else its universal ID."""
        comps = value.split(self.rep, 1)[0].split(self.comp)
        return self.text(comps[0] or (comps[1] if len(comps) > 1 else ""))


def unparseable(reason: str) -> dict:
    row = dict.fromkeys(KEY_NAMES)
    row.update(parse_state=UNPARSEABLE, reason=reason, segment_count=0, errors=None)
    return row


def parse_ts(value: str) -> datetime | None:
    """An HL7 TS/DTM (YYYY[MM[DD[HH[MM[SS[.S+]]]]]][+/-ZZZZ]) as naive UTC, or None."""
    value = value.strip()
    if len(value) < 8:
        return None
    tz = None
    for sign in ("+", "-"):
        at = value.find(sign, 4)
        if at != -1:
            value, zone = value[:at], value[at + 1 :]
            if len(zone) == 4 and zone.isdigit():
                minutes = int(zone[:2]) * 60 + int(zone[2:])
                tz = timezone(timedelta(minutes=minutes if sign == "+" else -minutes))
            break
    digits, _, frac = value.partition(".")
    if not digits.isdigit() or len(digits) % 2:
        return None
    try:
        parts = [int(digits[0:4])] + [int(digits[i : i + 2]) for i in range(4, min(len(digits), 14), 2)]
        while len(parts) < 3:
            parts.append(1)
        micro = int((frac + "000000")[:6]) if frac.isdigit() else 0
        moment = datetime(*parts, microsecond=micro) if len(parts) >= 6 else datetime(*parts)
    except ValueError:
        return None
    if tz is not None:
        moment = (moment.replace(tzinfo=tz) - tz.utcoffset(None)).replace(tzinfo=None)
    return moment


def _location(parts: list[str]) -> str:
    """ERL/ELD components (segment^sequence^field^repetition^component) as PID-3.1."""
    seg = parts[0] if parts else ""
    field = parts[2] if len(parts) > 2 else ""
    comp = parts[4] if len(parts) > 4 else ""
    return seg + (f"-{field}" if seg and field else "") + (f".{comp}" if seg and field and comp else "")


def _err(fields: list[str], d: Delimiters) -> dict:
    """One ERR segment, whatever its version: 2.5+ (ERR-2..8) or the older ERR-1 (ELD)."""
    get = lambda n: fields[n] if len(fields) > n else ""  # noqa: E731
    code = get(3).split(d.comp)
    location = get(2).split(d.rep, 1)[0].split(d.comp)
    eld = get(1).split(d.rep, 1)[0].split(d.comp)
    if not code[0] and len(eld) > 3:  # v2.3/2.4: ERR-1 = segment^sequence^field^code&text
        code = eld[3].split(d.sub)
        location = eld[:3]
    return {
        "code": d.text(code[0]),
        "text": d.text(code[1]) if len(code) > 1 else "",
        "severity": d.first(get(4)),
        "location": d.text(_location(location)),
        "app_code": d.first(get(5)),
        "diagnostic": d.text(get(7)),
        "user_text": d.text(get(8)),
    }


def scan(raw: bytes) -> dict:
    """Keys of one message as a dict of KEY_NAMES; never raises on any input."""
    try:
        return _scan(raw)
    except Exception as exc:  # a scanner bug must not lose the message
        return unparseable(f"scanner could not read this message ({type(exc).__name__})")


def _scan(raw: bytes) -> dict:
    raw = raw.lstrip(b"\x00")  # NUL padding is kept in the stored bytes, not read as a segment
    if not raw.startswith(b"MSH") or len(raw) < 8:
        return unparseable("does not start with an MSH segment")
    segments = [s for s in raw.splitlines() if s.strip(b"\x00")]  # bytes split at CR, LF and CRLF only
    msh_bytes = segments[0]
    field = chr(msh_bytes[3])
    charset_codec = None
    msh = msh_bytes.decode("latin-1").split(field)
    if len(msh) > 17 and msh[17]:
        charset_codec = codec_for(msh[17].split(msh[1][1:2] or "~", 1)[0].split(msh[1][0:1] or "^", 1)[0])
    codec = charset_codec or "utf-8"

    def text(b: bytes) -> str:
        try:
            return b.decode(codec)
        except (UnicodeDecodeError, LookupError):
            return b.decode("cp1252", "replace")

    msh = text(msh_bytes).split(field)
    d = Delimiters(field, msh[1])
    fields = [msh[0], field, *msh[1:]] + [""] * (20 - len(msh))  # fields[n] is MSH-n
    get = fields.__getitem__
    mtype = get(9).split(d.comp)
    message_type = "^".join(p for p in mtype[:2] if p) or None
    row = {
        "sending_app": d.hd(get(3)) or None,
        "sending_facility": d.hd(get(4)) or None,
        "receiving_app": d.hd(get(5)) or None,
        "receiving_facility": d.hd(get(6)) or None,
        "message_time": parse_ts(d.first(get(7))),
        "security": d.text(get(8)) or None,
        "message_type": message_type,
        "control_id": d.text(get(10)) or None,
        "processing_id": d.first(get(11)) or None,
        "version": d.first(get(12)) or None,
        "accept_ack_type": d.first(get(15)) or None,
        "app_ack_type": d.first(get(16)) or None,
        "charset": d.first(get(18)) or None,
        "patient_id": None, "patient_name": None, "placer_order": None, "filler_order": None,
        "ack_code": None, "ack_control_id": None, "ack_text": None, "errors": None,
        "segment_count": len(segments),
    }
    errors: list[dict] = []
    bad_ids: list[str] = []
    seen: set[bytes] = set()
    for number, seg in enumerate(segments[1:], start=2):
        sid = seg[:3]
        if sid in _KEY_SEGMENTS:
            _key_segment(sid, text(seg).split(field), d, row, errors, seen)
        elif not _SEGMENT_ID.match(sid) or seg[3:4] not in (b"", msh_bytes[3:4]):
            bad_ids.append(_line_words(seg, number))
    if errors:
        row["errors"] = errors
    row["parse_state"], row["reason"] = _rules(row, bad_ids, charset_codec)
    return row


def _key_segment(sid: bytes, f: list[str], d: Delimiters, row: dict, errors: list, seen: set) -> None:
    get = lambda n: f[n] if len(f) > n else ""  # noqa: E731
    if sid == b"PID":
        if sid not in seen:  # the first PID decides, even when its PID-3 is empty
            row["patient_id"] = d.first(get(3)) or None
            name = get(5).split(d.rep, 1)[0]
            row["patient_name"] = d.text(name) if name.strip(d.comp) else None
    elif sid in (b"ORC", b"OBR"):
        if row["placer_order"] is None:
            row["placer_order"] = d.first(get(2)) or None
        if row["filler_order"] is None:
            row["filler_order"] = d.first(get(3)) or None
    elif sid == b"MSA":
        if row["ack_code"] is None:
            row["ack_code"] = d.first(get(1)).upper() or None
            row["ack_control_id"] = d.text(get(2)) or None
            row["ack_text"] = d.text(get(3)) or None
    elif sid == b"ERR":
        errors.append(_err(f, d))
    seen.add(sid)


def _line_words(seg: bytes, number: int) -> str:
    """Where a line that is not a segment is, and its segment ID when it has one; never its
    content (a field broken across lines starts with a patient's name)."""
    sid = seg[:3]
    if _SEGMENT_ID.match(sid) and not seg[3:4].isalnum():
        return f"line {number} ({sid.decode()} followed by '{seg[3:4].decode('latin-1')}', not the field separator)"
    return f"line {number} (no segment ID at its start: a field broken across lines?)"


def _rules(row: dict, bad_ids: list[str], charset_codec: str | None) -> tuple[str, str | None]:
    """Cheap rules the hot path can check; full validation is hl7apy's, on demand."""
    problems = []
    if not row["message_type"]:
        problems.append("MSH-9 (message type) is empty")
    if not row["control_id"]:
        problems.append("MSH-10 (message control ID) is empty")
    if not row["version"]:
        problems.append("MSH-12 (version ID) is empty")
    if row["charset"] and charset_codec is None:
        problems.append(f"MSH-18 names an unknown character set '{row['charset']}'")
    if row["ack_code"] is not None and row["ack_code"] not in ACK_CODES:
        problems.append(f"MSA-1 '{row['ack_code']}' is not an acknowledgment code")
    if bad_ids:
        problems.append(f"{len(bad_ids)} line{'s are' if len(bad_ids) != 1 else ' is'} not an HL7 segment, first {bad_ids[0]}")
    if not problems:
        return OK, None
    return INVALID, "; ".join(problems)
