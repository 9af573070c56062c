"""Saved views: a named filter of messages (what the Messages filters and `messages` take:
types, states, ends, IDs, text, a field query, a time range, an interface or lane, and the
columns and order to show), shared through the store. Saving and deleting are audited,
with the view as it was and as it became."""
from __future__ import annotations

import json

from core import moments
from core.changes import Changes
from core.commands.context import CommandError, Context
from core.hl7 import query
from core.query_filter import filtered_by
from core.store import audit, views
from core.store.messages import MessageFilter
from core.vocabulary import AuditAction

VIEWS = Changes(views=True, audit=True)
FIELDS = ("type", "state", "ack_state", "sender", "receiver", "control_id", "patient_id", "since", "until", "text",
          "where", "lane", "interface", "columns", "sort")  # since and until as typed: "24h" means the last day when used
LISTS = ("type", "state", "ack_state", "columns")


def checked(name: str, definition: dict) -> tuple[str, dict]:
    """The name and definition of a view as saved, or CommandError saying what is wrong."""
    name = name.strip()
    if not 1 <= len(name) <= 100 or any(c in name for c in "\x00\r\n"):
        raise CommandError("A view's name is one line of 1 to 100 characters.")
    unknown = sorted(set(definition) - set(FIELDS))
    if unknown:
        raise CommandError(f"A view does not keep {', '.join(unknown)} (it keeps {', '.join(FIELDS)}).")
    kept = {k: v for k, v in definition.items() if v not in (None, [], "")}
    for k in LISTS:
        if k in kept and not (isinstance(kept[k], list) and all(isinstance(x, str) for x in kept[k])):
            raise CommandError(f"A view's {k} is a list of words.")
    if "where" in kept:
        try:
            query.parse(kept["where"])
        except query.QueryError as exc:
            raise CommandError(f"The view's field query does not parse: {exc}") from None
    for k in ("since", "until"):
        if k in kept:
            try:
                moments.moment(kept[k])
            except (ValueError, AttributeError) as exc:
                raise CommandError(f"The view's {k}: {exc}") from None
    if kept.get("sort", "newest") not in ("newest", "oldest"):
        raise CommandError("A view sorts newest first or oldest first (sort: newest | oldest).")
    return name, kept


class SaveView:
    changes = VIEWS

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def run(self, name: str, definition: dict) -> dict:
        name, kept = checked(name, definition)
        with self.ctx.store.begin() as conn:
            before = views.get(conn, name)
            who = self.ctx.who(conn)
            views.put(conn, name, who, kept, self.ctx.now())
            audit.append(conn, actor=who, action=AuditAction.SAVE_VIEW, at=self.ctx.now(),
                         before={"name": name, **before["definition"]} if before else None, after={"name": name, **kept})
        return {"name": name, "owner": who, "definition": kept, "replaced": before is not None}


class DeleteView:
    changes = VIEWS

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def run(self, name: str) -> None:
        with self.ctx.store.begin() as conn:
            found = views.remove(conn, name.strip())
            if found is None:
                raise CommandError(f"There is no view called {name!r} (see `lanewatch view list`).")
            audit.append(conn, actor=self.ctx.who(conn), action=AuditAction.DELETE_VIEW, at=self.ctx.now(),
                         before={"name": found["name"], "owner": found["owner"], **found["definition"]})


def as_filter(definition: dict) -> MessageFilter:
    """The messages a saved view picks (or options given in its words), its time range read
    now ("24h": the last day)."""
    d = {k: moments.moment(v) if k in ("since", "until") and isinstance(v, str) else v for k, v in definition.items()}
    flt = MessageFilter(types=d.get("type"), parse_states=d.get("state"), ack_states=d.get("ack_state"),
                        sender=d.get("sender"), receiver=d.get("receiver"), control_id=d.get("control_id"),
                        patient_id=d.get("patient_id"), since=d.get("since"), until=d.get("until"), text=d.get("text"),
                        lane=d.get("lane"), interface_id=d.get("interface"))
    return filtered_by(flt, query.parse(d["where"])) if d.get("where") else flt


def exported(view: dict) -> str:
    """A view as a file: its name, owner and definition (no messages, no PHI but what a person typed)."""
    return json.dumps({"lanewatch_view": 1, "name": view["name"], "owner": view["owner"],
                       "definition": view["definition"]}, indent=1, ensure_ascii=False) + "\n"


def imported(text: str) -> tuple[str, dict]:
    try:
        found = json.loads(text)
        if not isinstance(found, dict) or found.get("lanewatch_view") != 1:
            raise ValueError
        return found["name"], dict(found["definition"])
    except (ValueError, KeyError, TypeError):
        raise CommandError("This file is not a Lanewatch view (`lanewatch view export` writes one).") from None
