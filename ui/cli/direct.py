"""Headless document lane: `deliveries`, where each Direct message stands with each recipient
(sent, processed, dispatched, failed, not delivered, timed out), and the notices that could
not be paired, with why; `documents`, the CDA documents found; `validate`, a document
against the CDA schema and the C-CDA Schematron."""
from __future__ import annotations

import sys
from pathlib import Path

from core.commands.context import CommandError, Context
from core.store import direct, documents
from core.vocabulary import Disposition
from ui.cli import values
from ui.cli.output import ExitCode, json_line, password_from_stdin, remove_named, settings_target, verb

FIELDS = ("message_id", "header_id", "sender", "recipient", "state", "asks_dispatched", "sent_at", "processed_at",
          "dispatched_at", "failed_at", "words", "subject", "signed", "encrypted", "attachments")
TROUBLE = (Disposition.FAILED, Disposition.DELIVERY_FAILED, Disposition.TIMED_OUT)


def register(sub, common) -> None:
    s = verb(sub, common, "deliveries", cmd_deliveries, "Direct messages per recipient: sent, processed, dispatched, "
             "failed, not delivered, timed out (exit 4 when any failed or timed out)")
    s.add_argument("--state", action="append", choices=Disposition.values(), help="only these states (repeatable)")
    s.add_argument("--since", type=values.moment, help="sent since: ISO time, today, yesterday, or 30m / 2h / 7d ago")
    s.add_argument("--message", type=values.identifier, help="one Direct message (its Lanewatch message id)")
    s.add_argument("--unpaired", action="store_true", help="the MDNs and DSNs that answer no message stored here, and why")
    s.add_argument("--limit", type=values.count, default=1000)
    s.add_argument("--json", action="store_true")
    register_documents(sub, common)
    s = verb(sub, common, "mailbox", cmd_mailbox, "IMAP mailboxes read as sources (a Direct edge account): add, set, "
             "list, poll, remove", store=lambda a: "write" if a.action == "add" else "read")
    s.add_argument("action", choices=("add", "set", "list", "poll", "remove"))
    s.add_argument("name", nargs="*", help="the mailbox's name (add: NAME HOST)")
    s.add_argument("--user", type=values.words, help="the mailbox's user (often the Direct address)")
    s.add_argument("--password-stdin", action="store_true", help="read the password from stdin (kept in the keyring)")
    s.add_argument("--port", type=values.whole(1, 65535, "port"), help="default 993 (ssl) or 143")
    s.add_argument("--security", choices=("ssl", "starttls", "none"), help="default ssl; none only for a test server")
    s.add_argument("--folder", type=values.words, help="default INBOX")
    s.add_argument("--ca-file", help="PEM to verify the server's certificate by; '' clears")
    s.add_argument("--no-check", action="store_true", help="set: keep the settings without signing in to try them")
    s.add_argument("--watch", type=values.decimal(1, 86_400, "seconds"), metavar="SECONDS",
                   help="poll: go on reading every SECONDS until interrupted")
    s.add_argument("--smtp-host", help="its HISP's SMTP submission server, where resends of Direct messages go")
    s.add_argument("--smtp-port", type=values.whole(1, 65535, "port"), help="default 587 (starttls) or 465 (ssl)")
    s.add_argument("--smtp-security", choices=("ssl", "starttls", "none"), help="default starttls")
    s.add_argument("--writes", choices=("on", "off"), help="allow resending Direct messages through this mailbox")
    s.add_argument("--json", action="store_true")
    s = verb(sub, common, "direct-key", cmd_direct_key, "the practice's Direct certificates, whose private keys open "
             "messages encrypted to it: add, list, remove", store=lambda a: "write" if a.action == "add" else "read")
    s.add_argument("action", choices=("add", "list", "remove"))
    s.add_argument("address", nargs="?", help="the Direct address (or domain) the certificate is for")
    s.add_argument("--p12", type=Path, help="a PKCS#12 file with the certificate and its private key")
    s.add_argument("--cert", type=Path, help="the certificate (PEM or DER), with --key")
    s.add_argument("--key", type=Path, help="its private key (PEM or DER), with --cert")
    s.add_argument("--password-stdin", action="store_true", help="the file's password, from stdin")
    s.add_argument("--json", action="store_true")


def cmd_mailbox(ctx: Context, args) -> int:
    from core.commands.mailboxes import ConfigureMailbox, ReadMailboxes, RemoveMailbox
    from core.store import mailboxes

    if args.action == "list":
        for b in mailboxes.every(ctx.store):
            if args.json:
                json_line({k: b[k] for k in ("id", "name", "host", "port", "security", "username", "folder", "ca_file",
                                             "checked_at", "problem")})
            else:
                sys.stdout.write(f"{b['id']:>3}  {b['name']:16} {b['username']}@{b['host']}:{b['port']} ({b['security']}) "
                                 f"{b['folder']}  {b['problem'] or 'ok'}\n")
        return ExitCode.OK
    if args.action == "poll":
        return _read_mailboxes(ReadMailboxes(ctx), args.name, args.watch)
    if args.action == "remove":
        return remove_named("mailbox", args, RemoveMailbox(ctx).run)
    name, rest = settings_target("mailbox", args, lambda n: mailboxes.get(ctx.store, n),
                                 "lanewatch mailbox add NAME HOST --user USER --password-stdin")
    password = password_from_stdin(args)
    b = ConfigureMailbox(ctx).run(name, password=password, check=not args.no_check, host=rest[0] if rest else None,
                                  username=args.user, port=args.port, security=args.security, folder=args.folder,
                                  ca_file=args.ca_file, smtp_host=args.smtp_host, smtp_port=args.smtp_port,
                                  smtp_security=args.smtp_security,
                                  writes_enabled=None if args.writes is None else args.writes == "on")
    submits = (f"; resends go to {b['smtp_host']}:{b['smtp_port']} ({b['smtp_security']}), writes "
               f"{'on' if b['writes_enabled'] else 'off'}") if b.get("smtp_host") else ""
    print(f"mailbox {name}: saved ({b['username']}@{b['host']}:{b['port']}, {b['folder']})"
          + ("; its password is in the OS keyring" if password else "") + submits)
    return ExitCode.OK


def cmd_direct_key(ctx: Context, args) -> int:
    from core.commands.direct_keys import AddKey, RemoveKey
    from core.store import direct_keys

    if args.action == "list":
        with ctx.store.read() as conn:
            found = direct_keys.every(conn)
        for k in found:
            if args.json:
                json_line(k)
            else:
                sys.stdout.write(f"{k['address']:36} expires {k['not_after']:%Y-%m-%d}  {k['subject']}  "
                                 f"(issued by {k['issuer']}, serial {k['serial']})\n")
        if not found and not args.json:
            sys.stdout.write("No Direct certificate is configured: encrypted messages are kept sealed.\n")
        return ExitCode.OK
    if not args.address:
        raise CommandError(f"name the address: lanewatch direct-key {args.action} ADDRESS")
    if args.action == "remove":
        RemoveKey(ctx).run(args.address)
        print(f"direct-key {args.address}: removed, with its private key")
        return ExitCode.OK
    if bool(args.p12) == bool(args.cert or args.key) or bool(args.cert) != bool(args.key):
        raise CommandError("give the certificate as --p12 FILE, or as --cert FILE --key FILE")
    try:
        files = {"p12": args.p12.read_bytes()} if args.p12 else {"cert": args.cert.read_bytes(), "key": args.key.read_bytes()}
    except OSError as exc:
        raise CommandError(f"the file cannot be read: {exc.strerror}: {exc.filename}") from None
    row = AddKey(ctx).run(args.address, **files, password=password_from_stdin(args))
    print(f"direct-key {row['address']}: saved ({row['subject']}, expires {row['not_after']:%Y-%m-%d}); its private "
          "key is in the OS keyring" + (f"; {row['opened']:,} sealed messages stored before it are now opened"
                                        if row["opened"] else ""))
    return ExitCode.OK


def _read_mailboxes(reader, names: list[str], watch: float | None) -> int:
    import threading

    stop = threading.Event()
    while True:
        results = reader.run(names or None)
        for r in results:
            print(f"{r.name}: {r.stored} new message{'s' if r.stored != 1 else ''}, {r.queued} queue item"
                  f"{'s' if r.queued != 1 else ''} raised" + (f"; problem: {r.problem}" if r.problem else ""),
                  file=sys.stderr if r.problem else sys.stdout)
        if watch is None:
            return ExitCode.ATTENTION if any(r.problem for r in results) else ExitCode.OK
        if stop.wait(watch):
            return ExitCode.OK


def cmd_deliveries(ctx: Context, args) -> int:
    if args.unpaired:
        return _unpaired(ctx, args)
    found = direct.deliveries(ctx.store, message_id=args.message, states=args.state, since=args.since, limit=args.limit)
    out = sys.stdout
    for d in found:
        if args.json:
            json_line({k: d.get(k) for k in FIELDS})
        else:
            words = f"  {d['words'][:80]}" if d["words"] else ""
            out.write(f"{d['message_id']:>8}  {d['sent_at']:%Y-%m-%d %H:%M}  {Disposition(d['state']).words:20}  "
                      f"{d['recipient'][:40]:40}  {(d['subject'] or '')[:30]}{words}\n")
    if not found and not args.json:
        out.write("No Direct deliveries match.\n")
    return ExitCode.ATTENTION if any(d["state"] in TROUBLE for d in found) else ExitCode.OK


def _unpaired(ctx: Context, args) -> int:
    found = direct.unpaired(ctx.store, limit=args.limit)
    for u in found:
        if args.json:
            json_line({k: u[k] for k in ("message_id", "kind", "sender", "original_id", "why", "problems")})
        else:
            sys.stdout.write(f"{u['message_id']:>8}  {u['kind'].upper():3}  {(u['sender'] or '?')[:36]:36}  {u['why']}\n")
    if not found and not args.json:
        sys.stdout.write("Every MDN and DSN here is paired to its message.\n")
    return ExitCode.OK


def register_documents(sub, common) -> None:
    s = verb(sub, common, "documents", cmd_documents, "the CDA documents found in messages and files: type, patient, "
             "sections, what is missing, validation (exit 4 when one is invalid or incomplete)")
    s.add_argument("--type", help="only this document type, e.g. 'Referral Note'")
    s.add_argument("--invalid", action="store_true", help="only documents that fail validation")
    s.add_argument("--message", type=values.identifier, help="the documents one message carries")
    s.add_argument("--limit", type=values.count, default=1000)
    s.add_argument("--json", action="store_true")


DOCUMENT_FIELDS = ("id", "message_id", "part", "type_name", "type_template", "title", "document_id", "effective_time",
                   "patient_name", "patient_id", "author", "custodian", "sections", "missing", "problems", "xsd_state",
                   "xsd_findings", "schematron_state", "schematron_findings", "size")


def cmd_documents(ctx: Context, args) -> int:
    found = documents.every(ctx.store, type_name=args.type, invalid=args.invalid, message_id=args.message, limit=args.limit)
    for d in found:
        if args.json:
            json_line({k: d.get(k) for k in DOCUMENT_FIELDS})
            continue
        missing = f"  missing: {'; '.join(d['missing'])}" if d["missing"] else ""
        sections = f"{len(d['sections'])} section{'s' if len(d['sections']) != 1 else ''}"
        sys.stdout.write(f"{d['id']:>6}  msg {d['message_id']:<7} {d['type_name'][:34]:34}  {sections:12}  "
                         f"schema: {d['xsd_state']:11}{missing}\n")
    if not found and not args.json:
        sys.stdout.write("No documents match.\n")
    return ExitCode.ATTENTION if any(_needs_a_person(d) for d in found) else ExitCode.OK


def _needs_a_person(d: dict) -> bool:
    return d["xsd_state"] in ("invalid", "unreadable") or bool(d["missing"]) or d["schematron_state"] == "invalid"


def validate_document(ctx: Context | None, args) -> int:
    """`validate DOCUMENT` (ui.cli.triage): a stored document, whose Schematron result is kept, or a file."""
    from core.documents import validate

    stored = None
    if args.document.isdigit() and ctx is not None:
        stored = documents.get(ctx.store, int(args.document))
        if stored is None:
            raise CommandError(f"there is no document {args.document} in this store (see `lanewatch documents`)")
        raw = stored["raw"]
    else:
        path = Path(args.document)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"{args.document}: {exc.strerror or 'cannot be read'}") from None
    results = {"schema": validate.xsd(raw)}
    if not args.no_schematron:
        results["schematron"] = validate.schematron(raw)
        if stored is not None:
            documents.set_schematron(ctx.store, stored["id"], results["schematron"].state,
                                     [vars(f) for f in results["schematron"].findings], ctx.now())
    for name, r in results.items():
        if args.json:
            json_line({"check": name, "state": r.state, "note": r.note, "findings": [vars(f) for f in r.findings]})
            continue
        sys.stdout.write(f"{name}: {r.state}" + (f" ({r.note})" if r.note else "") + "\n")
        groups: dict[str, list] = {}
        for f in r.findings:
            groups.setdefault(f.rule, []).append(f)
        for rule, fs in sorted(groups.items(), key=lambda g: -len(g[1])):
            first = fs[0]
            where = f" line {first.line}" if first.line else ""
            sys.stdout.write(f"  {len(fs):>4} × {first.severity:7} {rule[:60]}{where}: {first.text[:160]}\n")
    return ExitCode.ATTENTION if any(r.state in ("invalid", "unreadable") for r in results.values()) else ExitCode.OK
