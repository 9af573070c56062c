"""Everything the detail pane shows for one message, gathered in one call (off the GUI thread)."""
from __future__ import annotations

from dataclasses import dataclass, field

from core.commands.context import Context
from core.hl7 import ack, structure
from core.hl7.encoding import decode
from core.privacy import PHI_FIELDS
from core.store import audit, messages
from core.vocabulary import AckState


@dataclass
class Detail:
    row: dict
    text: str  # the original bytes decoded for display
    codec: str
    tree: structure.Tree
    explanation: list[str]  # MSA and ERR in words: this message's, or its ACK's
    links: list[tuple[int, str]] = field(default_factory=list)  # (message id, what it is)
    has_corrections: bool = False


def load(ctx: Context, message_id: int) -> Detail | None:
    """The message and its context; the opening itself is audited (the detail shows PHI)."""
    store = ctx.store
    row = messages.get(store, message_id)
    if row is None:
        return None
    with store.begin() as conn:
        audit.append(conn, actor=ctx.who(conn), action="view_message", at=ctx.now(), message_id=message_id)
    text, codec = decode(row["raw"], row["charset"])
    tree = structure.build(text, row["version"], PHI_FIELDS)
    explanation, links = [], []
    if row["parse_state"] != "ok" and row["reason"]:
        explanation.append(f"{row['parse_state'].capitalize()}: {row['reason']}")
    if row["is_ack"]:
        explanation += ack.explain(row["ack_code"], row["ack_text"], row["errors"])
        if row["answers_id"]:
            links.append((row["answers_id"], "the message this ACK answers"))
    elif row["ack_id"]:
        answer = messages.get(store, row["ack_id"])
        if answer:
            explanation.append(f"ACK state: {AckState.label(row['ack_state'])}. Its ACK (message {answer['id']}) says:")
            explanation += ack.explain(answer["ack_code"], answer["ack_text"], answer["errors"])
        links.append((row["ack_id"], "its ACK"))
    else:
        explanation.append(f"ACK state: {AckState.label(row['ack_state'])}.")
    if row["duplicate_of"]:
        links.append((row["duplicate_of"], "the first copy of this duplicate"))
    if row["parent_id"]:
        links.append((row["parent_id"], f"the version this corrects (version {row['version_no'] - 1})"))
    corrections = messages.corrections_of(store, message_id)
    links += [(c, f"its correction (message {c})") for c in corrections[:3]]
    return Detail(row, text, codec, tree, explanation, links, bool(corrections))
