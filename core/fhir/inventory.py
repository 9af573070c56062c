"""The scope inventory of one endpoint and client: resource types × interactions, with what
the server supports, advertises, and what the app requested, was granted and needs, and
the flags a security review asks about.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from core.fhir.capability import Capability, SmartConfig, read_capability, read_smart_config
from core.fhir.scopes import INTERACTIONS, WRITE_INTERACTIONS, Scope, parse_all

LAYERS = ("advertised", "requested", "granted", "needed")  # scope sets; "supported" comes from the CapabilityStatement
SEVERITIES = ("high", "warn", "info")


@dataclass
class Cell:
    supported: bool | None  # None: the server's CapabilityStatement is not known
    contexts: dict[str, set[str]] = field(default_factory=lambda: {layer: set() for layer in LAYERS})


@dataclass(frozen=True)
class Flag:
    severity: str  # high, warn, info
    code: str
    scope: str  # the scope it is about ("" for the whole inventory)
    text: str


WRITE_FLAGS = frozenset(("clinical_write", "administrative_write"))  # about a scope's c/u/d, never its r/s


@dataclass
class Inventory:
    resources: list[str]
    cells: dict[tuple[str, str], Cell]  # (resource type, interaction letter)
    scopes: dict[str, list[Scope]]  # layer → scopes
    flags: list[Flag]

    def rows(self, writes_only: bool = False) -> list[dict]:
        """One row per resource type and interaction, for a table, CSV or JSON."""
        flagged: dict[str, list[Flag]] = defaultdict(list)
        for f in self.flags:
            flagged[f.scope].append(f)
        out = []
        for res in self.resources:
            for letter in INTERACTIONS:
                if writes_only and letter not in WRITE_INTERACTIONS:
                    continue
                cell = self.cells[(res, letter)]
                if cell.supported is not True and not any(cell.contexts.values()):
                    continue
                codes = sorted({f.code for layer in LAYERS for s in self.scopes[layer] if s.covers(res, letter)
                                for f in flagged.get(s.text, [])
                                if letter in WRITE_INTERACTIONS or f.code not in WRITE_FLAGS})  # a read is no write
                out.append({"resource": res, "interaction": letter, "supported": cell.supported,
                            **{layer: sorted(cell.contexts[layer]) for layer in LAYERS}, "flags": codes})
        return out

    def summary(self) -> dict:
        by = defaultdict(int)
        for f in self.flags:
            by[f.severity] += 1
        return {"resource_types": len(self.resources), **{f"{layer}_scopes": len(self.scopes[layer]) for layer in LAYERS},
                "flags": {s: by[s] for s in SEVERITIES}}


def build(capability: Capability | None, smart: SmartConfig | None, *, requested=None, granted=None, needed=None,
          audience: str = "provider") -> Inventory:
    """`audience` is whom the app serves: patient (a patient-facing app), provider, or backend."""
    scopes = {"advertised": parse_all(smart.scopes_supported if smart else None), "requested": parse_all(requested),
              "granted": parse_all(granted), "needed": parse_all(needed)}
    resources = set(capability.resources) if capability else set()
    for layer in LAYERS:
        resources |= {s.resource for s in scopes[layer] if s.kind == "resource" and not s.wildcard}
    ordered = sorted(resources)
    cells = {(r, i): Cell(_supported(capability, r, i)) for r in ordered for i in INTERACTIONS}
    for layer in LAYERS:
        for s in scopes[layer]:
            if s.kind != "resource":
                continue
            for r in ordered if s.wildcard else [s.resource]:
                for i in s.interactions:
                    cells[(r, i)].contexts[layer].add(s.context)
    flags = _flags(capability, smart, scopes, granted is not None, audience)
    return Inventory(ordered, cells, scopes, flags)


def _supported(capability: Capability | None, resource: str, interaction: str) -> bool | None:
    if capability is None:
        return None
    res = capability.resources.get(resource)
    return res is not None and interaction in res.interactions


def _flags(capability: Capability | None, smart: SmartConfig | None, scopes: dict[str, list[Scope]],
           grant_known: bool, audience: str) -> list[Flag]:
    flags: list[Flag] = []
    app = {s.text: s for layer in ("requested", "granted") for s in scopes[layer]}
    for s in app.values():
        flags += _scope_flags(s, capability, smart, audience)
    for s in scopes["advertised"] + scopes["requested"] + scopes["granted"]:
        if s.kind == "unknown":
            flags.append(Flag("warn", "not_a_scope", s.text, f"{s.text}: {s.problem}"))
    if grant_known:
        granted = scopes["granted"]
        for s in scopes["requested"]:
            if s.text not in {g.text for g in granted} and not _covered(s, granted):
                flags.append(Flag("warn", "silently_narrowed", s.text,
                                  f"{s.text} was requested but not granted: the server narrowed the access without an error"))
        if capability is not None:
            for s in granted:
                missing = _unsupported(s, capability)
                if missing:
                    flags.append(Flag("info", "granted_not_supported", s.text,
                                      f"{s.text} is granted, but the server does not support {missing}"))
    have = scopes["granted"] if grant_known else scopes["requested"]
    for s in scopes["needed"]:
        if s.kind == "resource" and not _covered(s, have):
            layer = "granted" if grant_known else "requested"
            flags.append(Flag("high", "needed_not_" + layer, s.text, f"a workflow needs {s.text}, which is not {layer}"))
    advertised = {s.text for s in scopes["advertised"]}
    if smart and advertised:
        for s in scopes["requested"]:
            if s.text not in advertised and not _covered(s, scopes["advertised"]):
                flags.append(Flag("info", "not_advertised", s.text, f"{s.text} is requested but not in the server's scopes_supported"))
    return flags


def _scope_flags(s: Scope, capability: Capability | None, smart: SmartConfig | None, audience: str) -> list[Flag]:
    out = []
    if s.kind != "resource":
        if s.text == "offline_access":
            out.append(Flag("info", "long_lived", s.text, "offline_access: a refresh token that outlives the session"))
        return out
    if s.wildcard:
        out.append(Flag("high" if s.is_write else "warn", "wildcard", s.text,
                        f"{s.text} covers every resource type: name the types the app needs"))
    if s.is_write:
        if s.resource_class == "clinical":
            out.append(Flag("high", "clinical_write", s.text, f"{s.text} writes clinical data: needs contracted access "
                            "and the practice's sign-off"))
        else:
            out.append(Flag("warn", "administrative_write", s.text, f"{s.text} writes administrative data: review it"))
    if s.context == "system" and audience == "patient":
        out.append(Flag("high", "system_on_patient_app", s.text,
                        f"{s.text} is a system scope (every patient's data) on a patient-facing app"))
    if smart and smart.syntax and s.version not in smart.syntax:
        out.append(Flag("warn", "syntax_not_accepted", s.text, f"{s.text} is SMART v{s.version} syntax; the server accepts "
                        + " and ".join(f"v{v}" for v in sorted(smart.syntax))))
    if s.params and capability is not None:
        known = capability.resources.get(s.resource)
        for name, _ in s.params:
            base = name.split(":")[0]
            if known is None or not known.search_params:
                out.append(Flag("info", "params_unchecked", s.text, f"{s.text}: the server lists no search parameters "
                                f"for {s.resource}, so {base!r} cannot be checked"))
            elif base not in known.search_params:
                out.append(Flag("warn", "param_not_searchable", s.text,
                                f"{s.text}: {base!r} is not a search parameter of {s.resource} on this server"))
    return out


def _covered(s: Scope, others: list[Scope]) -> bool:
    """Whether other scopes give at least what s asks for (same context, every interaction)."""
    if s.kind != "resource":
        return any(o.text == s.text for o in others)
    return all(any(o.kind == "resource" and o.context == s.context and o.resource in ("*", s.resource)
                   and i in o.interactions and (not o.params or o.params == s.params) for o in others)
               for i in s.interactions)


def _unsupported(s: Scope, capability: Capability) -> str:
    if s.kind != "resource" or s.wildcard:
        return ""
    res = capability.resources.get(s.resource)
    if res is None:
        return f"{s.resource} at all"
    missing = [i for i in s.interactions if i not in res.interactions]
    return f"{''.join(missing)} on {s.resource}" if missing else ""


def of_endpoint(endpoint: dict) -> Inventory:
    """An endpoint's scope inventory from what is stored: discovery's documents and the configured scopes."""
    cap = read_capability(endpoint["capability"]) if endpoint.get("capability") else None
    smart = read_smart_config(endpoint["smart_config"]) if endpoint.get("smart_config") else None
    return build(cap, smart, requested=endpoint.get("scopes_requested"), granted=endpoint.get("scopes_granted"),
                 needed=endpoint.get("scopes_needed"), audience=endpoint.get("audience") or "provider")
