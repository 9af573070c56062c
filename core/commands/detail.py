"""Opening a message's detail: everything the detail pane shows, gathered in one call (off the
GUI thread). It shows PHI, so opening it is a command that records a PHI view in the audit trail."""
from __future__ import annotations

from dataclasses import dataclass, field

from core.changes import Changes
from core.commands.context import Context
from core.documents import ccda
from core.fhir import tree as fhir_tree
from core.hl7 import ack, structure
from core.hl7.encoding import decode
from core.privacy import PHI_FIELDS
from core.store import audit, direct, documents, engines, fhir, messages
from core.vocabulary import AckState, AuditAction, Disposition, ParseState


@dataclass
class Detail:
    row: dict
    text: str  # the original bytes decoded for display
    codec: str
    tree: structure.Tree
    explanation: list[str]  # MSA and ERR in words: this message's, or its ACK's
    links: list[tuple[int, str]] = field(default_factory=list)  # (message id, what it is)
    has_corrections: bool = False
    engine: dict | None = None  # the engine keys when it came from an engine (core.store.engines.keys_of)
    mail: dict | None = None  # a Direct message's, MDN's or DSN's facts (core.store.direct.mail), with its deliveries
    documents: list[dict] = field(default_factory=list)  # the CDA documents it carries, each with its sections' text
    exchange: dict | None = None  # a FHIR exchange's facts (core.store.fhir.exchange_of)

    @property
    def engine_reference(self) -> str | None:
        """Where the engine holds it: its channel and message, as the engine's API names them."""
        e = self.engine
        if not e:
            return None
        return f"{e['engine_url'].rstrip('/')}/api/channels/{e['channel_uuid']}/messages/{e['engine_message_id']}"


class OpenDetail:
    """Show one message: it records a PHI view (`view_message`) before anything is shown."""

    changes = Changes(audit=True)

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def run(self, message_id: int) -> Detail | None:
        return _open(self.ctx, message_id)


def _open(ctx: Context, message_id: int) -> Detail | None:
    store = ctx.store
    row = messages.get(store, message_id)
    if row is None:
        return None
    with store.begin() as conn:
        audit.append(conn, actor=ctx.who(conn), action=AuditAction.VIEW_MESSAGE, at=ctx.now(), message_id=message_id)
    text, codec = decode(row["raw"], row["charset"])
    # content that is not HL7 v2 (an engine's XML, JSON...) has no segments to show as a tree
    tree = structure.build("" if row["parse_state"] == ParseState.TEXT else text, row["version"], PHI_FIELDS)
    explanation, links = [], []
    if row["parse_state"] != ParseState.OK and row["reason"]:
        explanation.append(f"{row['parse_state'].capitalize()}: {row['reason']}")
    mail = direct.mail(store, message_id)
    exchange = fhir.exchange_of(store, message_id)
    if exchange is not None:
        tree = fhir_tree.build(text, (exchange["request_at"], exchange["request_size"]),
                               (exchange["response_at"], exchange["response_size"]),
                               f"{exchange['method']} {row['message_type'].removeprefix('FHIR ')}",
                               f"HTTP {exchange['status']}" if exchange["status"] else "no answer")
        explanation = _exchange_lines(exchange)
    elif mail is not None:
        mail["deliveries"] = direct.deliveries(store, message_id=message_id)
        explanation += _mail_lines(mail)
        links += [(t["message_id"], f"its {t['kind'].upper()} ({_said(t)})") for t in mail["timeline"][:6]]
        if row["answers_id"]:
            links.append((row["answers_id"], "the message this notice answers"))
    elif row["is_ack"]:
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
    links += [(c, "its correction") for c in corrections[:3]]  # the button adds "(message N)"
    first = messages.versions(store, message_id)[0] if row["parent_id"] else message_id  # a correction: its original's keys
    return Detail(row, text, codec, tree, explanation, links, bool(corrections), engines.engine_keys(store, first), mail,
                  _documents(store, message_id), exchange)


def _exchange_lines(ex: dict) -> list[str]:
    """A FHIR exchange in words: what it did, how the server answered (the OperationOutcome's
    issues, each with where it points), and how its write was judged."""
    took = f" in {ex['duration_ms']:,.0f} ms" if ex["duration_ms"] is not None else ""
    lines = [f"{ex['method']} by {ex['app'] or 'an unknown app'} to {ex['endpoint'] or '?'}: "
             + (f"HTTP {ex['status']}{took}" if ex["status"] else "no answer came")
             + (f"; a {ex['write_class']} write" if ex["is_write"] else "")]
    if ex["issues"]:
        lines.append("Its OperationOutcome, issue by issue:")
        for i in ex["issues"]:
            where = f" at {', '.join(i['expression'])}" if i.get("expression") else ""
            lines.append(f"  {i.get('severity') or '?'} ({i.get('code') or '?'}){where}: {i.get('text') or 'no words given'}")
    elif ex["outcome"]:
        lines.append(f"The server: {ex['outcome']}")
    if ex["retry_after"]:
        lines.append(f"Retry-After: {ex['retry_after']} (the server's wait before another call)")
    lines += [f"Flagged: {f}" for f in ex["flags"] or []]
    if ex["scopes"]:
        lines.append(f"The token granted: {ex['scopes']} (the token itself is not kept)")
    return lines


def _documents(store, message_id: int) -> list[dict]:
    """The documents a message carries, as stored, with each section's narrative (read again from the document)."""
    out = []
    for d in documents.every(store, message_id=message_id, limit=20):
        raw = documents.get(store, d["id"])["raw"]
        d["rendering"] = [(s.title or "(untitled section)", s.state, s.text) for s in ccda.read(raw).sections]
        out.append(d)
    return out


_KINDS = {"message": "Direct message", "mdn": "MDN", "dsn": "DSN"}


def _said(notice: dict) -> str:
    return ", ".join(n["disposition"] or "no disposition" for n in notice["notices"]) or "nothing said"


def _smime_lines(security: dict | None) -> list[str]:
    """How it was sealed and signed: opened or not, the signer's certificate, what failed."""
    if not security:
        return []
    lines = []
    if security["signer"] and security["signer"]["subject"]:
        s = security["signer"]
        lines.append(f"  Signed by {s['subject']} (issued by {s['issuer']}, serial {s['serial']}), certificate valid "
                     f"{s['not_before'][:10]} to {s['not_after'][:10]}: the signature "
                     + ("holds" if s["valid"] else "does NOT hold"))
    lines += [f"  Problem: {t}" for t in security["trouble"]]
    if security["decrypted"]:
        lines.append("  Opened with the practice's private key (from the OS keyring).")
    return lines


def _mail_lines(mail: dict) -> list[str]:
    """A Direct message in words: how it was sent, and where it stands with each recipient,
    with the MDNs and DSNs in the order they came; a notice: what it says."""
    security = ", ".join(w for w, on in (("signed", mail["signed"]), ("encrypted", mail["encrypted"])) if on) or "neither signed nor encrypted"
    files = "; ".join(f"{a['filename'] or '(no name)'} ({a['content_type']}, {a['size']:,} bytes)" for a in mail["attachments"])
    lines = [f"{_KINDS[mail['kind']]} from {mail['sender'] or '?'}: {security}"
             + (f"; carries {files}" if files else "; no attachments"), *_smime_lines(mail.get("security"))]
    if mail["kind"] == "message":
        if mail["asks_dispatched"]:
            lines.append("The sender asked for final-destination delivery (a dispatched MDN).")
        for d in mail["deliveries"]:
            when = [f"{w} {d[k]:%Y-%m-%d %H:%M}" for w, k in (("processed", "processed_at"), ("dispatched", "dispatched_at"),
                                                               ("failed", "failed_at")) if d[k]]
            lines.append(f"  {d['recipient']}: {Disposition.label(d['state'])}" + (f" ({', '.join(when)})" if when else "")
                         + (f": {d['words']}" if d["words"] else ""))
        for t in mail["timeline"]:
            lines.append(f"  {t['event_time']:%Y-%m-%d %H:%M} {t['kind'].upper()} (message {t['message_id']}): "
                         + "; ".join(f"{n['recipient'] or '?'} {n['disposition'] or 'no disposition'}" for n in t["notices"]))
    else:
        lines += [f"  Says for {n['recipient'] or '(no Final-Recipient)'}: {Disposition.label(n['disposition']) or '(no disposition)'}"
                  + (" with final-destination delivery" if n["final_delivery"] else "") + (f" ({n['words']})" if n["words"] else "")
                  for n in mail["notices"]]
        if mail["paired_with"] is None:
            lines.append(f"  Not paired: it answers {mail['original_id'] or 'no message it names'}, not stored here"
                         " (or not sent to this recipient).")
    return lines
