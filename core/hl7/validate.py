"""Is a message good enough? Required fields from the lane catalogue (cheap, run at ingest)
and hl7apy's validation against the message's own version (one message at a time).
"""
from __future__ import annotations

import os
import re
import tempfile
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import resources
from core.hl7.edit import Path as FieldPath
from core.hl7.edit import get_values
from core.hl7.structure import names_version

CATALOGUE = Path(resources.__file__).with_name("lanes.toml")
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")


@dataclass(frozen=True)
class Finding:
    rule: str  # what was broken, without identifiers: it groups queue items
    text: str  # what a person reads


@dataclass(frozen=True)
class Catalogue:
    by_type: dict[str, tuple[FieldPath, ...]]
    by_interface: dict[str, tuple[FieldPath, ...]]

    def rules(self, message_type: str | None, match_key: str | None) -> tuple[FieldPath, ...]:
        kind = message_type or ""
        base = self.by_type.get(kind) or self.by_type.get(kind.split("^")[0]) or ()
        return base + self.by_interface.get(match_key or "", ())


@cache
def catalogue(path: Path = CATALOGUE) -> Catalogue:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    parse = lambda paths: tuple(FieldPath.parse(p) for p in paths)  # noqa: E731
    return Catalogue({k: parse(v) for k, v in data.get("required", {}).items()},
                     {k: parse(v.get("required", [])) for k, v in data.get("interfaces", {}).items()})


def missing_required(text: str, rules: tuple[FieldPath, ...]) -> list[Finding]:
    """Required fields that are empty: blank, "" (HL7's null), or with an empty first
    component (a PID-3 of ^^^NFM^MR names an authority but no identifier)."""
    comp = text[4:5] if text.startswith("MSH") and len(text) > 4 else "^"
    out = []
    for path, value in zip(rules, get_values(text, rules)):
        first = (value or "").split(comp, 1)[0] if path.component is None else (value or "")
        if value is None or not first.strip() or first == '""':
            what = "is empty" if not (value or "").strip(comp + " ") else f"has an empty {path}.1"
            out.append(Finding(f"required {path} missing", f"{path} is required on this lane and {what}"))
    return out


def structural(text: str, version: str | None) -> list[Finding]:
    """hl7apy's findings for the message against its declared version (slow: one message)."""
    from hl7apy.consts import VALIDATION_LEVEL
    from hl7apy.exceptions import HL7apyException
    from hl7apy.parser import parse_message
    from hl7apy.validation import Validator

    names, note = names_version(version)
    body = text.replace("\r\n", "\r").replace("\n", "\r").strip("\r")
    try:
        msg = parse_message(body, find_groups=True, validation_level=VALIDATION_LEVEL.TOLERANT, force_validation=False)
        if note:  # names from a version hl7apy knows: validate against that one
            msg.version = names
    except HL7apyException as exc:
        return [Finding("hl7apy could not parse", f"hl7apy could not parse the message: {exc}")]
    except Exception as exc:  # hl7apy raises plain errors on some malformed input
        return [Finding("hl7apy could not parse", f"hl7apy could not parse the message: {type(exc).__name__}")]
    fd, report = tempfile.mkstemp(suffix=".txt")
    os.close(fd)
    try:
        try:
            Validator.validate(msg, report_file=report)
        except HL7apyException:
            pass  # every finding is in the report; the exception holds only the first
        lines = Path(report).read_text(encoding="utf-8").splitlines()
    finally:
        os.unlink(report)
    return [Finding(_rule(line), _QUOTED.sub("(a value)", line.split(": ", 1)[-1])) for line in lines
            if line.startswith("Error")]  # the value itself is not quoted: it may be a patient's


def _rule(line: str) -> str:
    """hl7apy's words with any quoted value taken out (a value may be PHI, and differs per message)."""
    return "hl7apy: " + _QUOTED.sub("#", line.split(": ", 1)[-1])[:200]
