"""Reading a C-CDA document: its type (by templateId), header (patient, author, custodian,
effective time) and section inventory (each section present, empty, or nullFlavor; the
type's required sections that are missing). lxml, never a tree per field.

The required sections of each type come from resources/ccda_documents.json, read from
HL7's C-CDA R2.1 Schematron (a section declared "entries optional" is satisfied by its
"entries required" form, whose templateId is the same root with ".1").

Total: whatever the bytes, a Document comes back, with what could not be read in `problems`.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path

from lxml import etree

from core.hl7.scan import parse_ts

NS = {"c": "urn:hl7-org:v3", "sdtc": "urn:hl7-org:sdtc"}
V3 = "{urn:hl7-org:v3}"
TABLE = Path(__file__).resolve().parents[2] / "resources" / "ccda_documents.json"
US_REALM_HEADER = "2.16.840.1.113883.10.20.22.1.1"
NOT_XML, NOT_CDA = "Not a readable document", "Not a CDA document"  # the type of bytes that are no document
_PROLOG = re.compile(rb"<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>", re.S)
_ROOT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)")
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True)


@dataclass
class Section:
    templates: list[str]
    code: str | None
    title: str | None
    state: str  # present, empty (no narrative and no entries), null_flavor
    entries: int
    text: str = ""  # the narrative, as plain lines (the detail pane's rendering)


@dataclass
class Document:
    type_name: str  # "Referral Note", "Continuity of Care Document (CCD)"..., or "CDA document" when no C-CDA type is declared
    type_template: str | None
    templates: list[str] = field(default_factory=list)  # the document's own templateIds (root:extension)
    title: str | None = None
    document_id: str | None = None  # id/@root:@extension
    effective_time: datetime | None = None
    patient_name: str | None = None
    patient_id: str | None = None  # the first recordTarget/patientRole/id (an MRN, usually)
    birth_date: str | None = None
    author: str | None = None  # the first author's person, else its device/organization
    custodian: str | None = None
    sections: list[Section] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # the type's required sections not present (names)
    problems: list[str] = field(default_factory=list)

    @property
    def summary(self) -> dict:
        return {"type": self.type_name, "template": self.type_template, "title": self.title, "id": self.document_id,
                "effective_time": self.effective_time, "author": self.author, "custodian": self.custodian,
                "sections": [{"templates": s.templates, "code": s.code, "title": s.title, "state": s.state,
                              "entries": s.entries} for s in self.sections], "missing": self.missing}


@cache
def types() -> dict[str, dict]:
    """templateId root -> {name, required_sections: [{template, name}]} (resources/ccda_documents.json)."""
    return {d["template"]: d for d in json.loads(TABLE.read_text(encoding="utf-8"))["documents"]}


def is_cda(head: bytes) -> bool:
    """Whether bytes that begin so are a CDA document: their root element is a ClinicalDocument
    (a fragment of one, a section or an entry, is not)."""
    root = _ROOT.search(_PROLOG.sub(b"", head[:65536].removeprefix(b"\xef\xbb\xbf")))
    return bool(root) and root.group(1) == b"ClinicalDocument"


def read(raw: bytes) -> Document:
    try:
        root = etree.fromstring(raw, _PARSER)
    except (etree.XMLSyntaxError, ValueError) as exc:
        return Document(NOT_XML, None, problems=[f"not well-formed XML: {_first_line(str(exc))}"])
    if root.tag != f"{V3}ClinicalDocument":
        return Document(NOT_CDA, None, problems=[f"the root element is <{etree.QName(root).localname}>, "
                                                              "not a ClinicalDocument in the HL7 v3 namespace"])
    try:
        return _document(root)
    except Exception as exc:  # noqa: BLE001 - an odd document costs its details, never the document
        return Document("CDA document", None, problems=[f"its header could not be read ({type(exc).__name__})"])


def _document(root) -> Document:
    templates = [_ii(t) for t in root.findall("c:templateId", NS)]
    roots = [t.get("root") for t in root.findall("c:templateId", NS)]
    known = [r for r in roots if r in types() and r != US_REALM_HEADER]
    type_template = known[0] if known else (US_REALM_HEADER if US_REALM_HEADER in roots else None)
    doc = Document(types()[type_template]["name"] if type_template else "CDA document", type_template, templates)
    if type_template is None:
        doc.problems.append("no C-CDA document templateId: the type is not declared")
    doc.title = _text(root.find("c:title", NS))
    doc.document_id = _ii(root.find("c:id", NS))
    when = root.find("c:effectiveTime", NS)
    doc.effective_time = parse_ts(when.get("value") or "") if when is not None else None
    patient = root.find("c:recordTarget/c:patientRole", NS)
    if patient is None:
        doc.problems.append("no recordTarget/patientRole: whose document it is is not said")
    else:
        doc.patient_id = _ii(patient.find("c:id", NS))
        doc.patient_name = _name(patient.find("c:patient/c:name", NS))
        birth = patient.find("c:patient/c:birthTime", NS)
        doc.birth_date = birth.get("value") if birth is not None else None
    author = root.find("c:author/c:assignedAuthor", NS)
    if author is not None:
        doc.author = (_name(author.find("c:assignedPerson/c:name", NS))
                      or _text(author.find("c:assignedAuthoringDevice/c:softwareName", NS))
                      or _text(author.find("c:representedOrganization/c:name", NS)))
    doc.custodian = _text(root.find("c:custodian/c:assignedCustodian/c:representedCustodianOrganization/c:name", NS))
    body = root.find("c:component/c:structuredBody", NS)
    if body is None:
        if root.find("c:component/c:nonXMLBody", NS) is None:
            doc.problems.append("neither a structuredBody nor a nonXMLBody")
        return doc
    doc.sections = [_section(s) for s in body.iterfind("c:component/c:section", NS)]
    present = {t.split(":")[0] for s in doc.sections for t in s.templates}  # a nullFlavor section is there, saying "no information"
    required = types()[type_template]["required_sections"] if type_template else []
    doc.missing = [r["name"] for r in required if r["template"] not in present and f"{r['template']}.1" not in present]
    return doc


def _section(node) -> Section:
    templates = [_ii(t) for t in node.findall("c:templateId", NS)]
    code = node.find("c:code", NS)
    entries = len(node.findall("c:entry", NS))
    text_node = node.find("c:text", NS)
    narrative = _narrative(text_node) if text_node is not None else ""
    if node.get("nullFlavor"):
        state = "null_flavor"
    elif not entries and not narrative.strip():
        state = "empty"
    else:
        state = "present"
    return Section([t for t in templates if t], code.get("code") if code is not None else None,
                   _text(node.find("c:title", NS)), state, entries, narrative)


def _narrative(node) -> str:
    """A section's narrative block as plain lines: a table row a line, cells apart by " | "."""
    lines: list[str] = []
    for el in node.iter():
        tag = etree.QName(el).localname if isinstance(el.tag, str) else ""
        if tag == "tr":
            cells = [" ".join("".join(c.itertext()).split()) for c in el if isinstance(c.tag, str)]
            lines.append(" | ".join(cells))
        elif tag in ("paragraph", "item", "caption") or (tag == "content" and el.getparent() is node):
            lines.append(" ".join("".join(el.itertext()).split()))
    if not lines:
        lines = [" ".join("".join(node.itertext()).split())]
    return "\n".join(line for line in lines if line)[:20_000]


def _ii(node) -> str | None:
    if node is None:
        return None
    root, ext = node.get("root"), node.get("extension")
    return f"{root}:{ext}" if root and ext else root or ext


def _text(node) -> str | None:
    if node is None:
        return None
    text = " ".join("".join(node.itertext()).split())
    return text or None


def _name(node) -> str | None:
    if node is None:
        return None
    given = " ".join(" ".join((g.text or "").split()) for g in node.findall("c:given", NS))
    family = " ".join((node.findtext("c:family", default="", namespaces=NS) or "").split())
    whole = " ".join(p for p in (given, family) if p)
    return whole or _text(node)


def _first_line(text: str) -> str:
    return text.splitlines()[0][:200] if text else "unknown"
