"""What a FHIR server says it supports: its CapabilityStatement (R4, R5, STU3) or its DSTU2
`Conformance`, and its `.well-known/smart-configuration`, read into plain summaries.

Real servers' documents are untidy (a DSTU2-only element in an R4 statement, a version
that does not match the document's shape, no `rest` at all), so reading never raises
for a missing or odd part: what is not there is simply not supported.
"""
from __future__ import annotations

from dataclasses import dataclass, field

# REST interaction codes, in SMART's letters
TO_SMART = {"create": "c", "read": "r", "vread": "r", "history-instance": "r", "update": "u", "patch": "u",
            "delete": "d", "search-type": "s", "history-type": "s"}
OAUTH_URIS = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"


@dataclass
class Resource:
    type: str
    interactions: set[str] = field(default_factory=set)  # SMART letters
    search_params: set[str] = field(default_factory=set)


@dataclass
class Capability:
    kind: str  # CapabilityStatement or Conformance
    fhir_version: str | None
    release: str  # DSTU2, STU3, R4, R4B, R5, or "unknown"
    software: str | None
    software_version: str | None
    resources: dict[str, Resource]
    oauth_uris: dict[str, str]  # token, authorize, ... from the SMART extension
    notes: list[str]


def release_of(fhir_version: str | None, kind: str) -> str:
    v = (fhir_version or "").strip()
    for prefix, name in (("1.0", "DSTU2"), ("0.", "DSTU2"), ("3.0", "STU3"), ("4.0", "R4"), ("4.3", "R4B"), ("5.", "R5")):
        if v.startswith(prefix):
            return name
    return "DSTU2" if kind == "Conformance" else "unknown"


def read_capability(doc: dict) -> Capability:
    kind = doc.get("resourceType") or "unknown"
    notes = []
    if kind not in ("CapabilityStatement", "Conformance"):
        notes.append(f"expected a CapabilityStatement, got {kind}")
    release = release_of(doc.get("fhirVersion"), kind)
    if kind == "Conformance" and release not in ("DSTU2", "unknown"):
        notes.append(f"a DSTU2 Conformance that declares FHIR {doc.get('fhirVersion')}")
    if kind == "CapabilityStatement" and release == "DSTU2":
        notes.append(f"a CapabilityStatement that declares DSTU2's FHIR {doc.get('fhirVersion')}")
    if "acceptUnknown" in doc and release in ("R4", "R4B", "R5"):
        notes.append("carries acceptUnknown, an element of DSTU2 and STU3 only")
    software = doc.get("software") if isinstance(doc.get("software"), dict) else {}
    rests = [r for r in doc.get("rest") or [] if isinstance(r, dict)]
    rest = next((r for r in rests if r.get("mode") == "server"), rests[0] if rests else {})
    resources: dict[str, Resource] = {}
    for r in rest.get("resource") or []:
        if not isinstance(r, dict) or not r.get("type"):
            continue
        codes = [i.get("code") for i in r.get("interaction") or [] if isinstance(i, dict) and i.get("code")]
        res = resources.setdefault(r["type"], Resource(r["type"]))
        res.interactions |= {TO_SMART[c] for c in codes if c in TO_SMART}
        res.search_params |= {p.get("name") for p in r.get("searchParam") or [] if isinstance(p, dict) and p.get("name")}
    # a system-level search parameter (_id, _lastUpdated...) applies to every resource
    common = {p.get("name") for p in rest.get("searchParam") or [] if isinstance(p, dict) and p.get("name")}
    for res in resources.values():
        res.search_params |= common
    security = rest.get("security") if isinstance(rest.get("security"), dict) else {}
    uris = {}
    for ext in security.get("extension") or []:
        if ext.get("url") == OAUTH_URIS:
            uris = {e.get("url"): e.get("valueUri") for e in ext.get("extension") or [] if e.get("valueUri")}
    return Capability(kind, doc.get("fhirVersion"), release, software.get("name"), software.get("version"),
                      resources, uris, notes)


@dataclass
class SmartConfig:
    """What the inventory reads of a smart-configuration (the document itself is kept whole in the store)."""

    scopes_supported: list[str]
    capabilities: list[str]

    @property
    def syntax(self) -> set[int]:
        """The scope syntax versions the server accepts (permission-v1, permission-v2)."""
        return {v for v, cap in ((1, "permission-v1"), (2, "permission-v2")) if cap in self.capabilities}


def read_smart_config(doc: dict) -> SmartConfig:
    def strings(key: str) -> list[str]:
        value = doc.get(key)
        return [str(v) for v in value] if isinstance(value, list) else []

    return SmartConfig(strings("scopes_supported"), strings("capabilities"))
