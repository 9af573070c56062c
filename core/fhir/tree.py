"""A FHIR exchange's bodies as a tree for the detail pane (the same Node and Tree an HL7
message's fields use): the request's resource and the answer, each element labelled with its
FHIRPath-like path (Observation.valueQuantity.code, issue[0].details.text).

Elements that identify a person are marked PHI, with everything below them, so the privacy
screen masks them: names, identifiers, contact points, addresses, birth dates, photos, the
patient a resource is about, narrative and free-text notes.
"""
from __future__ import annotations

import json

from core.hl7.structure import Node, Tree

PHI_ELEMENTS = frozenset(("name", "identifier", "telecom", "address", "birthDate", "contact", "photo", "patient",
                          "subject", "beneficiary", "subscriber", "text", "note", "patientInstruction", "valueString"))
VERSION = "FHIR"


def build(text: str, request: tuple[int, int], response: tuple[int, int], what: str, answer: str) -> Tree:
    """The tree of an exchange stored as `text` (core.fhir.exchange.render), its bodies at
    `request` and `response` (start, size); `what` and `answer` name the two halves."""
    raw = text.encode("utf-8", "replace")
    halves = [("request", what, raw[request[0]:request[0] + request[1]]),
              ("response", answer, raw[response[0]:response[0] + response[1]])]
    return Tree([_half(label, name, body) for label, name, body in halves], VERSION, None)


def _half(label: str, name: str, body: bytes) -> Node:
    if not body.strip():
        return Node(label, name, "", "", "(no body)")
    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        value = body.decode("utf-8", "replace")
        return Node(label, name, "text", value, value, phi=True)  # a form or text: not read field by field, so masked
    root = doc.get("resourceType") if isinstance(doc, dict) else None
    node = Node(label, f"{name} · {root}" if root else name, "JSON", "", "")
    node.children = _children(doc, root or "", phi=False)
    return node


def _children(value, path: str, phi: bool) -> list[Node]:
    items = value.items() if isinstance(value, dict) else ((f"[{i}]", v) for i, v in enumerate(value))
    out = []
    for key, v in items:
        if key == "resourceType":
            continue
        label = f"{path}{key}" if key.startswith("[") else f"{path}.{key}" if path else key
        secret = phi or key in PHI_ELEMENTS or (key == "id" and path == "Patient")
        if isinstance(v, (dict, list)):
            kind = "array" if isinstance(v, list) else v.get("resourceType") or "object"
            node = Node(label, key.strip("[]") if key.startswith("[") else key, kind, "", "", phi=secret)
            node.children = _children(v, label, secret)
        else:
            shown = v if isinstance(v, str) else json.dumps(v)
            node = Node(label, key, type(v).__name__ if not isinstance(v, str) else "string", shown, shown, phi=secret)
        out.append(node)
    return out
