"""Headless FHIR: endpoints (add, set, list, discover, probe) and the scope inventory.

Secrets are never taken on the command line (they would sit in the shell's history):
a client secret or bearer token comes on standard input (--secret-stdin), a private key
from its PEM file (--key-file); both go to the OS keyring."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from core import labels
from core.commands.context import CommandError, Context
from core.commands.endpoints import (
    AUDIENCES,
    ConfigureEndpoint,
    Discover,
    ProbeEndpoints,
    RemoveEndpoint,
    SignIn,
    queue_bulk_errors,
)
from core.fhir import inventory, report
from core.fhir.auth import ALGS, METHODS
from core.fhir.bulk import Job, follow, kick_off
from core.fhir.client import FhirClient, FhirError
from core.store import endpoints
from core.store import fhir as fhir_store
from core.vocabulary import Health
from ui.cli.output import ExitCode, json_line, verb


def register(sub, common) -> None:
    s = verb(sub, common, "endpoint", cmd_endpoint, "FHIR endpoints: add, set, list, discover, probe, signin (standalone launch)",
             store=lambda a: "write" if a.action == "add" else "read")
    s.add_argument("action", choices=("add", "set", "list", "discover", "probe", "signin", "remove"))
    s.add_argument("name", nargs="*", help="the endpoint's name (add: NAME BASE_URL)")
    s.add_argument("--auth", choices=METHODS)
    s.add_argument("--client-id")
    s.add_argument("--token-url", help="else the server's smart-configuration says")
    s.add_argument("--alg", choices=ALGS, help="backend services signing algorithm (default RS384)")
    s.add_argument("--kid", help="the key ID the server knows the public key by")
    s.add_argument("--audience", choices=AUDIENCES, help="whom the app serves (patient-facing apps get stricter flags)")
    s.add_argument("--scope", action="append", help="scopes the client requests (repeatable, or space-separated)")
    s.add_argument("--needs", action="append", help="scopes the practice's workflows use")
    s.add_argument("--probe-path", help="the one read a health probe makes (default Patient?_count=1)")
    s.add_argument("--writes", choices=("on", "off"), help="the write switch: whether Lanewatch may retry a write here")
    s.add_argument("--contracted", action="append", metavar="TYPE[.INTERACTION]",
                   help="a write the practice has contracted for (repeatable; --contracted '' clears the list)")
    s.add_argument("--secret-stdin", action="store_true", help="read the client secret or bearer token from stdin")
    s.add_argument("--key-file", help="private key (PEM) for backend services; kept in the keyring")
    s.add_argument("--no-discover", action="store_true", help="add without fetching the server's documents")
    s.add_argument("--json", action="store_true")
    s = verb(sub, common, "scopes", cmd_scopes, "the SMART scope inventory of an endpoint, for a security review")
    s.add_argument("endpoint")
    fmt = s.add_mutually_exclusive_group()
    fmt.add_argument("--csv", action="store_true")
    fmt.add_argument("--html", action="store_true")
    fmt.add_argument("--json", action="store_true")
    s.add_argument("--writes", action="store_true", help="only create, update and delete")
    s.add_argument("-o", "--output", help="write to this file instead of standard output")
    s = verb(sub, common, "fhir-writes", cmd_writes, "the FHIR writes apps made (from HAR files and the tap): what each "
             "wrote, how the server answered, and what was flagged (exit 4 when one failed or was flagged)")
    s.add_argument("--endpoint", help="only this endpoint's")
    which = s.add_mutually_exclusive_group()
    which.add_argument("--failed", action="store_true", help="only the writes that failed")
    which.add_argument("--flagged", action="store_true", help="only the writes that raised a flag")
    which.add_argument("--all", action="store_true", help="every exchange, reads and sign-ins too")
    s.add_argument("--limit", type=int, default=200)
    s.add_argument("--json", action="store_true")
    s = verb(sub, common, "fhir-tap", cmd_tap, "a recording tap: a reverse proxy on loopback that forwards an app's "
             "calls to an endpoint over verified TLS and records every exchange (never a credential)")
    s.add_argument("--endpoint", required=True, help="the endpoint the calls go on to (its base URL)")
    s.add_argument("--port", type=int, default=0, help="the port to listen on, on 127.0.0.1 (default: any free one)")
    s.add_argument("--host", default="127.0.0.1", help="127.0.0.1 or ::1 (the tap never listens beyond loopback)")
    s.add_argument("--app", help="who is calling, when its token does not say (a JWT's client_id does)")
    s = verb(sub, common, "bulk", cmd_bulk, "start a FHIR bulk export (or attach to one) and follow it to its manifest")
    s.add_argument("endpoint")
    s.add_argument("--level", default="", help="'' (the whole system), Patient, or Group/ID")
    s.add_argument("--type", action="append", help="resource types to export (repeatable)")
    s.add_argument("--since", help="only resources changed since this instant")
    s.add_argument("--attach", metavar="STATUS_URL", help="follow a job already started")


def cmd_endpoint(ctx: Context, args) -> int:
    if args.action == "list":
        return _list(ctx, args.json)
    if args.action == "probe":
        return _probe(ctx, args.name, args.json)
    if not args.name:
        raise CommandError(f"name the endpoint: lanewatch endpoint {args.action} NAME")
    if args.action == "discover":
        return _show_discovery(Discover(ctx).run(args.name[0]))
    if args.action == "remove":
        RemoveEndpoint(ctx).run(args.name[0])
        print(f"endpoint {args.name[0]}: removed, with its probe history and its secrets")
        return ExitCode.OK
    if args.action == "signin":
        print("opening the sign-in page in the system browser…", file=sys.stderr)
        print(f"granted: {SignIn(ctx).run(args.name[0]) or 'nothing stated'}")
        return ExitCode.OK
    return _configure(ctx, args)


def _configure(ctx: Context, args) -> int:
    name, *rest = args.name
    if args.action == "add" and len(rest) != 1:
        raise CommandError("lanewatch endpoint add NAME BASE_URL [options]")
    if args.action == "add" and endpoints.get(ctx.store, name):
        raise CommandError(f"An endpoint called {name!r} exists: change it with 'lanewatch endpoint set'.")
    if args.action == "set" and endpoints.get(ctx.store, name) is None:
        raise CommandError(f"No endpoint called {name!r}.")
    secret = None
    if args.secret_stdin:
        secret = sys.stdin.readline().strip()
    elif args.key_file:
        secret = Path(args.key_file).read_text(encoding="utf-8")
    ConfigureEndpoint(ctx).run(name, secret=secret, base_url=rest[0] if rest else None, auth=args.auth,
                               client_id=args.client_id, token_url=args.token_url, alg=args.alg, key_id=args.kid,
                               audience=args.audience, scopes_requested=_joined(args.scope),
                               scopes_needed=_joined(args.needs), probe_path=args.probe_path,
                               write_enabled=None if args.writes is None else args.writes == "on",
                               contracted_writes=_contracted(args.contracted))
    print(f"endpoint {name}: saved" + (" (its secret is in the OS keyring)" if secret else ""))
    if args.action == "add" and not args.no_discover:
        return _show_discovery(Discover(ctx).run(name))
    return ExitCode.OK


def _contracted(values: list[str] | None) -> list[str] | None:
    """The contracted writes given (repeatable, comma- or space-separated); [] clears them."""
    if values is None:
        return None
    return [w for v in values for w in v.replace(",", " ").split()]


def _joined(values: list[str] | None) -> str | None:
    return " ".join(values) if values else None


def _show_discovery(e: dict) -> int:
    cap = e.get("capability") or {}
    smart = e.get("smart_config") or {}
    print(f"{e['name']}: FHIR {e.get('fhir_version') or '?'} ({cap.get('resourceType', 'no CapabilityStatement')}), "
          f"software {e.get('software') or 'not stated'}")
    print(f"  resource types: {sum(len(r.get('resource') or []) for r in cap.get('rest') or [])}; "
          f"scopes advertised: {len(smart.get('scopes_supported') or [])}; token endpoint: {smart.get('token_endpoint') or '-'}")
    if e.get("cert_expires_at"):
        print(f"  TLS certificate expires {e['cert_expires_at']:%Y-%m-%d}")
    for problem in (e.get("discovery_problem") or "").split("; "):
        if problem:
            print(f"  problem: {problem}")
    return ExitCode.OK if cap else ExitCode.ATTENTION


def _list(ctx: Context, as_json: bool) -> int:
    for r in endpoints.overview(ctx.store):
        if as_json:
            json_line(r)
            continue
        latency = f"{r['latency_ms']:.0f} ms" if r["latency_ms"] is not None else "-"
        cert = f"cert to {r['cert_expires_at']:%Y-%m-%d}" if r["cert_expires_at"] else ""
        print(f"{r['id']:>3}  {r['name']:20} {r['base_url']:40} {r['auth']:20} {r['status'] or 'not probed':10} "
              f"{latency:>8} writes {'ON ' if r['write_enabled'] else 'off'} {cert}".rstrip())
    return ExitCode.OK


def _probe(ctx: Context, names: list[str], as_json: bool) -> int:
    results = ProbeEndpoints(ctx).run(names or None)
    for endpoint, p in results:
        if as_json:
            json_line({"endpoint": endpoint["name"], "status": p.status, "latency_ms": p.latency_ms,
                       "detail": p.detail, "steps": [s.__dict__ for s in p.steps]})
        else:
            steps = ", ".join(f"{s.step} {s.http_status or ''} {s.ms:.0f} ms".replace("  ", " ") for s in p.steps)
            print(f"{endpoint['name']}: {p.status} in {p.latency_ms:.0f} ms ({steps})" + (f": {p.detail}" if p.detail else ""))
    return ExitCode.OK if all(p.status == Health.OK for _, p in results) else ExitCode.ATTENTION


def cmd_scopes(ctx: Context, args) -> int:
    e = endpoints.get(ctx.store, args.endpoint)
    if e is None:
        raise CommandError(f"No endpoint called {args.endpoint!r}.")
    inv = inventory.of_endpoint(e)
    if args.html:
        text = report.to_html(inv, endpoint=f"{e['name']} ({e['base_url']})", client=e.get("client_id"),
                              generated=ctx.now(), writes_only=args.writes)
    elif args.json:
        text = report.to_json(inv, args.writes)
    elif args.csv:
        text = report.to_csv(inv, args.writes)
    else:
        text = "\n".join(f"{f.severity:5} {f.scope:40} {f.text}" for f in inv.flags) or "no findings"
        text += f"\n{json.dumps(inv.summary())}\n"
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"written to {args.output}")
    else:
        sys.stdout.write(text)
    return ExitCode.OK


_WRITE_FIELDS = ("message_id", "message_time", "endpoint", "app", "method", "url", "interaction", "operation",
                 "resource_type", "resource_id", "conditional", "status", "ok", "duration_ms", "is_write", "write_class",
                 "scopes", "scope_allows", "capability_allows", "contracted", "write_enabled", "flags", "outcome",
                 "issues", "retry_after", "identifier", "location", "etag", "if_match")


def cmd_writes(ctx: Context, args) -> int:
    if args.endpoint and endpoints.get(ctx.store, args.endpoint) is None:
        raise CommandError(f"No endpoint called {args.endpoint!r}.")
    found = fhir_store.exchanges(ctx.store, endpoint=args.endpoint, writes=not args.all, failed=args.failed,
                                 flagged=args.flagged, limit=args.limit)
    for r in found:
        if args.json:
            json_line({k: r[k] for k in _WRITE_FIELDS})
            continue
        when = f"{r['message_time']:%Y-%m-%d %H:%M:%S}" if r["message_time"] else "-"
        what = f"{r['operation'] or r['interaction']} {r['resource_type'] or ''}".strip()
        status = r["status"] or "no answer"
        said = r["outcome"] or ("ok" if r["ok"] else "")
        print(f"{r['message_id']:>7}  {when}  {r['endpoint'] or '?':12} {r['app'] or '?':16} {what:28} {status!s:>9}  "
              f"{r['write_class'] or '-':14} {said}" + (f"  FLAGGED: {'; '.join(r['flags'])}" if r["flags"] else ""))
    if not found and not args.json:
        print("no FHIR writes stored" if not args.all else "no FHIR exchanges stored"
              + " (ingest an app's HAR file: lanewatch ingest app.har)")
    return ExitCode.ATTENTION if any(r["is_write"] and (not r["ok"] or r["flags"]) for r in found) else ExitCode.OK


def cmd_tap(ctx: Context, args) -> int:
    """Run the tap until interrupted, printing a line a second while calls pass through."""
    import signal
    import threading

    from core import workstation
    from core.sources.fhir_tap import FhirTap, TapError

    e = endpoints.get(ctx.store, args.endpoint)
    if e is None:
        raise CommandError(f"No endpoint called {args.endpoint!r}.")
    try:
        tap = FhirTap(ctx.store, e, host=args.host, port=args.port, app=args.app, now=ctx.now)
    except TapError as exc:
        raise CommandError(str(exc)) from None
    except OSError as exc:  # the port is taken, or not ours to listen on
        raise CommandError(f"could not listen on {args.host}:{args.port}: {exc.strerror or exc}") from None
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    print(f"recording tap for {e['name']}: point the app's FHIR base URL at {tap.start()} "
          f"(calls go on to {e['base_url']}); Ctrl+C stops", file=sys.stderr)
    said = (0, 0, 0)
    while not stop.wait(1):
        s = tap.stats
        if (s.exchanges, s.stored, len(s.problems)) != said:
            said = (s.exchanges, s.stored, len(s.problems))
            print(f"{labels.plural(s.exchanges, 'exchange')} ({labels.plural(s.writes, 'write')}, "
                  f"{s.unanswered:,} unanswered by the endpoint), {s.stored:,} stored", file=sys.stderr)
            for text in s.problems[-1:]:
                print(f"  problem: {text}", file=sys.stderr)
    spilled = tap.close(spill=workstation.data_folder())
    print(f"stopped: {labels.plural(tap.stats.stored, 'exchange')} stored"
          + (f"; the rest could not be, and are in {spilled}: ingest it once the store is back" if spilled else ""),
          file=sys.stderr)
    return ExitCode.ATTENTION if spilled else ExitCode.OK


def cmd_bulk(ctx: Context, args) -> int:
    e = endpoints.get(ctx.store, args.endpoint)
    if e is None:
        raise CommandError(f"No endpoint called {args.endpoint!r}.")
    with FhirClient(e) as client:
        try:
            job = Job(args.attach) if args.attach else kick_off(client, level=args.level, types=args.type, since=args.since)
        except FhirError as exc:
            raise CommandError(str(exc)) from None
        print(f"export job: {job.status_url}", file=sys.stderr)
        follow(client, job, on_progress=lambda j: print(f"  in progress: {j.progress or 'no progress given'}", file=sys.stderr))
    if job.transaction_time:
        print(f"export as of {job.transaction_time} (the next export can ask --since it)", file=sys.stderr)
    for out in job.outputs:
        print(f"{out.type:28} {out.count if out.count is not None else '?':>8}  {out.url}")
    queued = queue_bulk_errors(ctx, e["name"], job)
    if job.problem:
        print(f"problem: {job.problem}", file=sys.stderr)
    if queued:
        print(f"{labels.plural(queued, 'error')} put in the queue (lanewatch queue --kind fhir_bulk_error)", file=sys.stderr)
    return ExitCode.OK if job.state == "complete" and not queued else ExitCode.ATTENTION


