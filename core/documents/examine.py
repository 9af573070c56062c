"""From bytes to a documents row: the CDA documents a Direct message carries (an XML
attachment, or an XDM zip's documents) or a file holds, each read (core.documents.ccda)
and checked against the CDA schema (core.documents.validate). Nothing here touches the
store, so it runs where rows are built (core.message_rows, perhaps in the row worker)."""
from __future__ import annotations

import base64
import io
import zipfile

from core.documents import ccda, validate

XML_TYPES = ("application/xml", "text/xml", "application/hl7-v3+xml", "application/cda+xml", "application/hl7-cda+xml")
ZIP_TYPES = ("application/zip", "application/x-zip-compressed", "application/octet-stream")
MOST_PER_PACKAGE = 50
MOST_BYTES = 50 << 20  # a package member larger than this is named, not unpacked


def row(raw: bytes, part: str | None) -> dict:
    """One document's row (without its message id)."""
    doc = ccda.read(raw)
    if doc.type_name in (ccda.NOT_XML, ccda.NOT_CDA):
        checked = validate.Result("unreadable", [validate.Finding("not a CDA document", "; ".join(doc.problems))])
    elif doc.problems and not doc.type_template:
        checked = validate.Result("not_checked", [], None)
    else:
        checked = validate.xsd(raw)
    return {"part": (part or "")[:500] or None, "type_name": doc.type_name[:100], "type_template": doc.type_template,
            "title": doc.title, "document_id": (doc.document_id or "")[:300] or None, "effective_time": doc.effective_time,
            "patient_name": (doc.patient_name or "")[:400] or None, "patient_id": (doc.patient_id or "")[:300] or None,
            "author": (doc.author or "")[:400] or None, "custodian": (doc.custodian or "")[:400] or None,
            "sections": doc.summary["sections"], "missing": doc.missing, "problems": doc.problems,
            "xsd_state": checked.state, "xsd_findings": [vars(f) for f in checked.findings],
            "size": len(raw), "raw": raw}


def in_attachment(name: str | None, content_type: str, payload: bytes) -> list[tuple[str, bytes]]:
    """The CDA documents in one attachment: itself, or an XDM package's members."""
    if content_type in XML_TYPES or (name or "").lower().endswith(".xml"):
        return [(name or "attachment.xml", payload)] if ccda.is_cda(payload) else []
    if content_type in ZIP_TYPES or (name or "").lower().endswith(".zip"):
        return _xdm(name or "package.zip", payload)
    return []


def _xdm(name: str, payload: bytes) -> list[tuple[str, bytes]]:
    """An XDM package (IHE ITI TF-1 16: IHE_XDM/<submission set>/<documents>, with METADATA.XML)."""
    try:
        package = zipfile.ZipFile(io.BytesIO(payload))
        members = [m for m in package.infolist() if m.filename.lower().endswith(".xml")
                   and not m.filename.upper().endswith("METADATA.XML") and m.file_size <= MOST_BYTES][:MOST_PER_PACKAGE]
        found = [(f"{name}/{m.filename}", package.read(m)) for m in members]
    except (zipfile.BadZipFile, OSError, ValueError, RuntimeError, NotImplementedError):
        return []
    return [(n, b) for n, b in found if ccda.is_cda(b)]


def in_hl7(text: str) -> list[tuple[str, bytes]]:
    """The CDA documents an HL7 v2 message carries Base64-encoded in OBX-5 (value type ED, as
    MDM and ORU send them: source^type^subtype^Base64^data), each named by its OBX."""
    if "Base64" not in text and "BASE64" not in text and "base64" not in text:  # most messages: one pass each
        return []
    segments = text.replace("\r\n", "\r").replace("\n", "\r").split("\r")
    msh = segments[0] if segments and segments[0].startswith("MSH") and len(segments[0]) > 5 else "MSH|^"
    field, component = msh[3], msh[4]
    found = []
    for seg in segments:
        fields = seg.split(field)
        if fields[0] != "OBX" or len(fields) < 6 or fields[2].upper() != "ED":
            continue
        parts = fields[5].split(component)
        if len(parts) < 5 or parts[3].strip().lower() != "base64":
            continue
        try:
            body = base64.b64decode("".join(parts[4].split()), validate=False)
        except (ValueError, base64.binascii.Error):
            continue
        if ccda.is_cda(body):
            found.append((f"OBX-{fields[1] or len(found) + 1}-5", body))
    return found
