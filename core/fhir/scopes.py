"""SMART scopes: parsed and classified, v1 (`patient/Observation.read`) and v2
(`patient/Observation.rs?category=...`) alike.

A scope is read as a person reviewing access would read it: whose data (the context:
patient, user, system), which resource (or every one, `*`), which interactions (c, r, u,
d, s), whether that is a write, and whether the resource is clinical or administrative.
"""
from __future__ import annotations

import logging
import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from urllib.parse import parse_qsl

import resources
from core import workstation

CONTEXTS = ("patient", "user", "system")
INTERACTIONS = "cruds"  # create, read, update, delete, search: SMART v2's letters, in its order
INTERACTION_WORDS = {"c": "create", "r": "read", "u": "update", "d": "delete", "s": "search"}
WRITE_INTERACTIONS = frozenset("cud")
V1_ACTIONS = {"read": "rs", "write": "cud", "*": "cruds"}
SPECIAL = {
    "openid": "OpenID Connect sign-in",
    "fhirUser": "who the signed-in user is, as a FHIR resource",
    "profile": "the signed-in user's profile (SMART v1 name of fhirUser)",
    "launch": "launch from the EHR, with its context",
    "launch/patient": "standalone launch: the app asks for a patient to be chosen",
    "launch/encounter": "standalone launch: the app asks for an encounter to be chosen",
    "offline_access": "a refresh token that outlives the session (long-lived access)",
    "online_access": "a refresh token for as long as the user is signed in",
}

log = logging.getLogger(__name__)
RESOURCE_CLASSES = Path(resources.__file__).with_name("fhir_resources.toml")


@cache
def resource_classes(path: Path = RESOURCE_CLASSES, override: Path | None = None) -> dict[str, str]:
    """Each resource type's write class ("clinical" or "administrative"), from the table in
    resources/ with the workstation's own file of the same name over it."""
    override = override or workstation.config_folder() / RESOURCE_CLASSES.name
    classes: dict[str, str] = {}
    for source in (path, override):
        try:
            data = tomllib.loads(source.read_text(encoding="utf-8"))
        except FileNotFoundError:
            continue
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:  # the shipped table still holds
            log.warning("%s cannot be read (%s): the write classes shipped with Lanewatch are used", source, exc)
            continue
        for kind in ("administrative", "clinical"):
            classes.update(dict.fromkeys(str(data.get(kind, "")).split(), kind))
    return classes


def resource_class(resource_type: str | None) -> str:
    """What a write of this type is; a type the table does not know counts as clinical."""
    return resource_classes().get(resource_type or "", "clinical")


_RESOURCE_SCOPE = re.compile(r"^(?P<context>[a-z]+)/(?P<resource>\*|[A-Z][A-Za-z]+)\.(?P<action>[a-z*]+)(?:\?(?P<query>.*))?$")


@dataclass(frozen=True)
class Scope:
    text: str
    kind: str  # "resource", "special", or "unknown"
    context: str | None = None  # patient, user, system
    resource: str | None = None  # a type, or "*"
    interactions: str = ""  # a subset of "cruds", in that order
    version: int | None = None  # 1 (read/write/*) or 2 (letters); None when not a resource scope
    params: tuple[tuple[str, str], ...] = field(default=())  # v2 granular query, e.g. (("category", "...|vital-signs"),)
    problem: str | None = None  # why it is not a valid scope, when it is not

    @property
    def is_write(self) -> bool:
        return bool(WRITE_INTERACTIONS & set(self.interactions))

    @property
    def wildcard(self) -> bool:
        return self.resource == "*"

    @property
    def resource_class(self) -> str | None:
        if self.kind != "resource":
            return None
        if self.wildcard:
            return "clinical"  # every resource, clinical ones included
        return resource_class(self.resource)

    def covers(self, resource: str, interaction: str) -> bool:
        return self.kind == "resource" and self.resource in ("*", resource) and interaction in self.interactions

    @property
    def words(self) -> str:
        """The scope in a sentence, for the review."""
        if self.kind == "special":
            return SPECIAL[self.text]
        if self.kind == "unknown":
            return self.problem or "not a SMART scope"
        what = ", ".join(INTERACTION_WORDS[i] for i in self.interactions)
        whose = {"patient": "the launch patient's", "user": "what the user may see of", "system": "all"}[self.context]
        res = "every resource type" if self.wildcard else self.resource
        narrowed = f" where {', '.join(f'{k}={v}' for k, v in self.params)}" if self.params else ""
        return f"{what} {whose} {res}{narrowed}"


def parse(text: str) -> Scope:
    """One scope; never raises (an unreadable scope says why)."""
    if text in SPECIAL:
        return Scope(text, "special")
    m = _RESOURCE_SCOPE.match(text)
    if not m:
        return Scope(text, "unknown", problem="not a SMART scope (context/Resource.action)")
    context, resource, action, query = m["context"], m["resource"], m["action"], m["query"]
    if context not in CONTEXTS:
        return Scope(text, "unknown", problem=f"unknown context {context!r} (patient, user or system)")
    if action in V1_ACTIONS:
        if query is not None:
            return Scope(text, "unknown", problem="SMART v1 scopes take no query parameters")
        return Scope(text, "resource", context, resource, V1_ACTIONS[action], version=1)
    if not action or any(a not in INTERACTIONS for a in action) or "".join(sorted(action, key=INTERACTIONS.index)) != action \
            or len(set(action)) != len(action):
        return Scope(text, "unknown", problem=f"{action!r} is neither read/write/* (v1) nor letters of c r u d s in that order (v2)")
    params = tuple(parse_qsl(query, keep_blank_values=True)) if query else ()
    return Scope(text, "resource", context, resource, action, version=2, params=params)


def parse_all(texts: str | list[str] | None) -> list[Scope]:
    """Scopes as a token response or a configuration gives them: one string, space-separated, or a list."""
    if not texts:
        return []
    items = texts.split() if isinstance(texts, str) else [t for s in texts for t in str(s).split()]
    return [parse(t) for t in dict.fromkeys(items)]
