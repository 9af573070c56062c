"""Is a FHIR write one the practice should see? Each write is judged on four facts, and any
that fails is a flag, even when the server took the write:

- its **write class**, administrative or clinical (resources/fhir_resources.toml);
- whether the **token's scopes** allowed it (SMART v1 `.write` and v2 `c`/`u`/`d`);
- whether the endpoint's **CapabilityStatement** offers the interaction on that type;
- whether writes are **enabled** on the endpoint and this one is **contracted** for it (the
  EHR opens writes to an app one contract at a time: `contracted_writes` lists them, as
  `DocumentReference` for every write of a type or `DocumentReference.create` for one).

A fact that cannot be known (an opaque token, no CapabilityStatement fetched) is None and
raises no flag: a flag is something known to be wrong.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from core.fhir.exchange import Interaction, json_body
from core.fhir.scopes import parse_all, resource_class

LETTER = {"create": "c", "update": "u", "patch": "u", "delete": "d"}


@dataclass(frozen=True)
class Write:
    """One resource write (a transaction holds several)."""

    resource_type: str | None
    interaction: str  # create, update, patch, delete


@dataclass
class Judgement:
    write_class: str | None = None  # the highest of its writes' classes; None: not a write
    scope_allows: bool | None = None
    capability_allows: bool | None = None
    contracted: bool | None = None
    enabled: bool | None = None
    flags: list[str] = field(default_factory=list)  # what is wrong, in words


def writes_of(it: Interaction, request_body: bytes) -> list[Write]:
    """The resource writes a request makes: one, or a transaction's or batch's writing entries."""
    if it.name in LETTER:
        return [Write(it.resource_type, it.name)]
    if it.name != "transaction":
        return []
    bundle = json_body(request_body) or {}
    found = []
    for entry in bundle.get("entry") or []:
        req = entry.get("request") if isinstance(entry, dict) else None
        if not isinstance(req, dict):
            continue
        method, url = str(req.get("method", "")).upper(), str(req.get("url", ""))
        kind = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}.get(method)
        if kind:
            rtype = url.split("?")[0].split("/")[0] or (entry.get("resource") or {}).get("resourceType")
            found.append(Write(rtype or None, kind))
    return found


def judge(writes: list[Write], endpoint: dict, scopes: str | None) -> Judgement:
    """The four facts of a request's writes against its endpoint and token."""
    if not writes:
        return Judgement()
    classes = {resource_class(w.resource_type) for w in writes}
    j = Judgement(write_class="clinical" if "clinical" in classes else "administrative")
    name = endpoint.get("name") or "the endpoint"
    j.enabled = bool(endpoint.get("write_enabled"))
    if not j.enabled:
        j.flags.append(f"writes are not enabled on {name}")
    contracted = [str(c) for c in endpoint.get("contracted_writes") or []]
    missing = [w for w in writes if w.resource_type not in contracted and f"{w.resource_type}.{w.interaction}" not in contracted]
    j.contracted = not missing
    if missing:
        j.flags.append(f"{_list(missing)} is not among the writes contracted for {name}")
    if scopes is not None:
        granted = parse_all(scopes)
        refused = [w for w in writes if not any(s.covers(w.resource_type or "", LETTER[w.interaction]) for s in granted)]
        j.scope_allows = not refused
        if refused:
            j.flags.append(f"no scope of the token allows {_list(refused)}")
    offered = _offered(endpoint.get("capability"))
    if offered is not None:
        absent = [w for w in writes if w.interaction not in offered.get(w.resource_type or "", set())]
        j.capability_allows = not absent
        if absent:
            j.flags.append(f"the CapabilityStatement of {name} does not offer {_list(absent)}")
    return j


def _list(writes: list[Write]) -> str:
    return ", ".join(dict.fromkeys(f"{w.interaction} {w.resource_type or '?'}" for w in writes))


def _offered(capability: dict | None) -> dict[str, set[str]] | None:
    """Interactions the server says it offers, by resource type (patch counts as offered
    when it names patch); None when no CapabilityStatement is known."""
    if not isinstance(capability, dict) or not capability.get("rest"):
        return None
    offered: dict[str, set[str]] = {}
    for rest in capability.get("rest") or []:
        if not isinstance(rest, dict) or rest.get("mode", "server") != "server":
            continue
        for res in rest.get("resource") or []:
            if isinstance(res, dict) and res.get("type"):
                codes = {str(i.get("code")) for i in res.get("interaction") or [] if isinstance(i, dict)}
                offered.setdefault(str(res["type"]), set()).update(codes)
    return offered
