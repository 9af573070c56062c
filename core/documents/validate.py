"""Validating CDA documents: against the CDA schema (XSD, with HL7's SDTC extension, as
C-CDA uses it) at ingest, and against the C-CDA R2.1 Schematron on demand (2 to 22 s a
document: never at ingest).

Neither is shipped with Lanewatch (they are HL7's to distribute): name them with
LANEWATCH_CDA_XSD (…/infrastructure/cda/CDA_SDTC.xsd) and LANEWATCH_CCDA_SCHEMATRON (the
R2.1 .sch). Without them a document is still read, and its validation says it was not done
and why. The Schematron's value-set checks need HL7's voc.xml; when it is not beside the
Schematron it reads as an empty one, and those checks are skipped (said in the result).
"""
from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from lxml import etree, isoschematron

from core.signatures import normalise

XSD_ENV, SCHEMATRON_ENV = "LANEWATCH_CDA_XSD", "LANEWATCH_CCDA_SCHEMATRON"
EMPTY_VOC = b'<systems xmlns="http://www.lantanagroup.com/voc"/>'
MOST_FINDINGS = 200
_MODAL = re.compile(r"\b(SHALL|SHOULD|MAY)\b")
_lock = threading.Lock()
_cache: dict[tuple[str, str], object] = {}
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)


@dataclass
class Finding:
    rule: str  # what groups it: the schema's message with values stripped, or the Schematron assert's id
    text: str
    line: int | None = None
    severity: str = "error"


@dataclass
class Result:
    state: str  # valid, invalid, not_checked, unreadable
    findings: list[Finding]
    note: str | None = None  # why it was not checked, or what was skipped


def configured(env: str) -> Path | None:
    value = os.environ.get(env)
    return Path(value) if value else None


def _load(kind: str, path: Path):
    key = (kind, str(path))
    with _lock:
        if key not in _cache:
            if kind == "xsd":
                _cache[key] = etree.XMLSchema(etree.parse(str(path), _PARSER))
            else:
                doc = etree.parse(str(path), _with_empty_voc(path))
                _cache[key] = isoschematron.Schematron(doc, store_report=True, validate_schema=False)
        return _cache[key]


def _with_empty_voc(path: Path) -> etree.XMLParser:
    """A parser whose voc.xml, when HL7's is not beside the Schematron, is an empty systems document."""
    class Voc(etree.Resolver):
        def resolve(self, url, pubid, context):
            if url and url.rsplit("/", 1)[-1] == "voc.xml" and not (path.parent / "voc.xml").exists():
                return self.resolve_string(EMPTY_VOC, context)
            return None

    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    parser.resolvers.add(Voc())
    return parser


def xsd(raw: bytes) -> Result:
    """The document against the CDA schema (the first MOST_FINDINGS findings). Ingest runs it
    on every document, so with no schema nothing is parsed here (the Schematron's check says
    whether a file is XML at all)."""
    path = configured(XSD_ENV)
    if (missing := _unusable(path, XSD_ENV, "CDA schema", "CDA_SDTC.xsd")) is not None:
        return missing
    try:
        schema = _load("xsd", path)
    except (etree.XMLSchemaParseError, etree.XMLSyntaxError, OSError) as exc:
        return Result("not_checked", [], f"the CDA schema could not be loaded: {str(exc)[:200]}")
    doc = _parsed(raw)
    if isinstance(doc, Result):
        return doc
    if schema.validate(doc):
        return Result("valid", [])
    findings = [Finding(normalise(_plain(e.message)), _plain(e.message), e.line) for e in list(schema.error_log)[:MOST_FINDINGS]]
    return Result("invalid", findings)


def schematron(raw: bytes) -> Result:
    """The document against the C-CDA R2.1 Schematron: each failed assert a finding (an
    error for a SHALL, a warning for a SHOULD or MAY)."""
    doc = _parsed(raw)
    if isinstance(doc, Result):
        return doc
    path = configured(SCHEMATRON_ENV)
    if (missing := _unusable(path, SCHEMATRON_ENV, "C-CDA Schematron", "the R2.1 .sch file")) is not None:
        return missing
    try:
        rules = _load("sch", path)
    except (etree.XMLSyntaxError, etree.SchematronParseError, OSError) as exc:
        return Result("not_checked", [], f"the C-CDA Schematron could not be loaded: {str(exc).splitlines()[0][:200]}")
    rules.validate(doc)
    svrl = "{http://purl.oclc.org/dsdl/svrl}"
    findings = []
    for failed in rules.validation_report.iter(f"{svrl}failed-assert"):
        text = " ".join("".join(failed.itertext()).split())
        rule = failed.get("id") or normalise(text[:120])
        findings.append(Finding(rule, text[:600], severity=_severity(text)))
        if len(findings) >= MOST_FINDINGS:
            break
    note = None if (path.parent / "voc.xml").exists() else "value-set checks skipped (HL7's voc.xml is not beside the Schematron)"
    return Result("invalid" if findings else "valid", findings, note)


def _parsed(raw: bytes):
    """The document's tree, or why it has none: a document that is not XML says so with or without a schema."""
    try:
        return etree.fromstring(raw, _PARSER)
    except (etree.XMLSyntaxError, ValueError) as exc:
        return Result("unreadable", [Finding("not well-formed XML", str(exc).splitlines()[0][:300])])


def _unusable(path: Path | None, env: str, what: str, file: str) -> Result | None:
    """Why a check cannot run (it is not named, or not there), or None."""
    if path is None:
        return Result("not_checked", [], f"no {what}: set {env} to {file}")
    if not path.is_file():
        return Result("not_checked", [], f"the {what} named by {env} is not there: {path}")
    return None


def _severity(text: str) -> str:
    """An assert's conformance verb decides: the first of SHALL, SHOULD, MAY in its words."""
    found = _MODAL.search(text)
    return "error" if found is None or found.group(1) == "SHALL" else "warning"


def _plain(message: str) -> str:
    """An XSD message without lxml's namespace braces: {urn:hl7-org:v3}id reads as id."""
    return message.replace("{urn:hl7-org:v3}", "").replace("{urn:hl7-org:sdtc}", "sdtc:")
