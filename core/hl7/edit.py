"""Edits by path (PID-3.1, OBR-4.2, PID-3[2].1, OBX[2]-5) that leave every other byte alone.

A path names a segment (the first of its name, or the n-th with [n]), a field, optionally
a repetition [r], a component and a subcomponent. Only the text of that element is
replaced; delimiters are added where the element did not exist yet, and the new value's
own delimiter characters are escaped, so it cannot spill into its neighbours.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from core.hl7.scan import Delimiters
from core.hl7.structure import delimiters_of

_PATH = re.compile(r"^(?P<seg>[A-Z][A-Z0-9]{2})(?:\[(?P<segrep>\d+)\])?-(?P<field>\d+)(?:\[(?P<rep>\d+)\])?"
                   r"(?:\.(?P<comp>\d+))?(?:\.(?P<sub>\d+))?$")
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n|$)")


class EditError(ValueError):
    """A path that does not parse, or names something that cannot be edited."""


# No message holds more: HL7 defines no segment past about 60 fields, and a data type past
# about 20 components. A larger number is a typo, never padding worth gigabytes.
LIMITS = {"segrep": ("segment occurrence", 9999), "field": ("field", 999), "rep": ("repetition", 999),
          "comp": ("component", 99), "sub": ("subcomponent", 99)}


@dataclass(frozen=True)
class Path:
    segment: str
    occurrence: int  # 1-based: which segment of that name
    field: int
    repetition: int  # 1-based
    component: int | None
    subcomponent: int | None

    @classmethod
    def parse(cls, text: str) -> Path:
        m = _PATH.match(text.strip().upper())
        if not m:
            raise EditError(f"not a field path: {text!r} (examples: PID-3.1, PID-3[2].1, OBX[2]-5)")
        numbers = [int(m[g]) if m[g] else None for g in LIMITS]
        if any(n == 0 for n in numbers if n is not None):
            raise EditError(f"positions count from 1: {text!r}")
        for (what, most), n in zip(LIMITS.values(), numbers):
            if n is not None and n > most:
                raise EditError(f"{text.strip()}: {what} {n:,} is past what an HL7 message holds (at most {most:,})")
        occurrence, field, rep, comp, sub = numbers
        if m["seg"] == "MSH" and field <= 2:
            raise EditError("MSH-1 and MSH-2 hold the delimiters and cannot be edited by path")
        return cls(m["seg"], occurrence or 1, field, rep or 1, comp, sub)

    def __str__(self) -> str:
        seg = self.segment + (f"[{self.occurrence}]" if self.occurrence > 1 else "")
        out = f"{seg}-{self.field}" + (f"[{self.repetition}]" if self.repetition > 1 else "")
        return out + "".join(f".{n}" for n in (self.component, self.subcomponent) if n)


def escape(value: str, d: Delimiters) -> str:
    """A value written so that none of its characters reads as a delimiter."""
    if not d.esc:
        return value
    out = value.replace(d.esc, f"{d.esc}E{d.esc}")
    for char, code in ((d.field, "F"), (d.comp, "S"), (d.rep, "R"), (d.sub, "T")):
        out = out.replace(char, f"{d.esc}{code}{d.esc}")
    return out


def _replace(parts: list[str], index: int, value: str) -> list[str]:
    """parts with parts[index] set, padded with empty elements if it did not exist."""
    parts = parts + [""] * (index + 1 - len(parts))
    parts[index] = value
    return parts


def set_value(text: str, path: Path | str, value: str, *, escaped: bool = False) -> str:
    """The message text with the element at path set to value; every other character kept."""
    path = Path.parse(path) if isinstance(path, str) else path
    d = delimiters_of(text)
    new = value if escaped else escape(value, d)
    lines = [m.group(0) for m in _LINE.finditer(text) if m.group(0)]
    seen = 0
    for i, raw_line in enumerate(lines):
        body = raw_line.rstrip("\r\n")
        if body[:3] != path.segment or body[3:4] != d.field:
            continue
        seen += 1
        if seen == path.occurrence:
            lines[i] = _edit_segment(body, path, new, d) + raw_line[len(body):]
            return "".join(lines)
    raise EditError(f"the message has no {path.segment}" + (f" number {path.occurrence}" if path.occurrence > 1 else ""))


def get_value(text: str, path: Path | str) -> str | None:
    """The element's text as sent (escapes included), or None when the message lacks it."""
    return get_values(text, [Path.parse(path) if isinstance(path, str) else path])[0]


def get_values(text: str, paths: list[Path] | tuple[Path, ...]) -> list[str | None]:
    """get_value for several paths, in one pass over the message's segments."""
    d = delimiters_of(text)
    wanted = {p.segment for p in paths}
    found: dict[str, list[str]] = {}
    for m in _LINE.finditer(text):
        body = m.group(0).rstrip("\r\n")
        if body[:3] in wanted and body[3:4] == d.field:
            found.setdefault(body[:3], []).append(body)
    out = []
    for path in paths:
        bodies = found.get(path.segment, ())
        out.append(_element(bodies[path.occurrence - 1], path, d) if len(bodies) >= path.occurrence else None)
    return out


def _field_index(path: Path) -> int:
    # in MSH the field separator itself is MSH-1, so MSH-n is the (n-1)-th part after the name
    return path.field - 1 if path.segment == "MSH" else path.field


def _edit_segment(body: str, path: Path, new: str, d: Delimiters) -> str:
    fields = body.split(d.field)
    fi = _field_index(path)
    reps = (fields[fi] if fi < len(fields) else "").split(d.rep)
    ri = path.repetition - 1
    rep = reps[ri] if ri < len(reps) else ""
    if path.component is None:
        rep = new
    else:
        comps = rep.split(d.comp)
        ci = path.component - 1
        if path.subcomponent is None:
            comps = _replace(comps, ci, new)
        else:
            comp = comps[ci] if ci < len(comps) else ""
            comps = _replace(comps, ci, d.sub.join(_replace(comp.split(d.sub), path.subcomponent - 1, new)))
        rep = d.comp.join(comps)
    fields = _replace(fields, fi, d.rep.join(_replace(reps, ri, rep)))
    return d.field.join(fields)


def _element(body: str, path: Path, d: Delimiters) -> str | None:
    fields = body.split(d.field)
    fi = _field_index(path)
    if fi >= len(fields):
        return None
    reps = fields[fi].split(d.rep)
    if path.repetition > len(reps):
        return None
    value = reps[path.repetition - 1]
    if path.component is not None:
        comps = value.split(d.comp)
        if path.component > len(comps):
            return None
        value = comps[path.component - 1]
        if path.subcomponent is not None:
            subs = value.split(d.sub)
            if path.subcomponent > len(subs):
                return None
            value = subs[path.subcomponent - 1]
    return value
