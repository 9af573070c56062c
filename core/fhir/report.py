"""The scope inventory exported for a security review: CSV, JSON, and one self-contained
HTML file (styles inline, no scripts, nothing fetched), safe to attach to a ticket."""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from html import escape

from core.fhir.inventory import LAYERS, SEVERITIES, Inventory
from core.fhir.scopes import INTERACTION_WORDS, WRITE_INTERACTIONS


def to_csv(inv: Inventory, writes_only: bool = False) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["resource", "interaction", "write", "supported", *LAYERS, "flags"])
    for r in inv.rows(writes_only):
        w.writerow([r["resource"], INTERACTION_WORDS[r["interaction"]], "yes" if r["interaction"] in WRITE_INTERACTIONS else "no",
                    {True: "yes", False: "no", None: "unknown"}[r["supported"]],
                    *(" ".join(r[layer]) for layer in LAYERS), " ".join(r["flags"])])
    return out.getvalue()


def to_json(inv: Inventory, writes_only: bool = False) -> str:
    return json.dumps({"summary": inv.summary(), "flags": [f.__dict__ for f in inv.flags],
                       "matrix": inv.rows(writes_only)}, indent=2)


_CSS = """
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em;color:#1d2330}
h1{font-size:1.4em;margin:0 0 .2em}.meta{color:#5a6272;margin-bottom:1.5em}
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #d5d9e0;padding:.3em .6em;text-align:left;vertical-align:top}
th{background:#f1f3f6}.high{background:#fde2e1}.warn{background:#fff3cd}.info{background:#e8f1fb}
td.yes{background:#e3f4e6}td.no{color:#8a919e}td.gap{background:#fde2e1}.w{font-weight:600}
.counts span{display:inline-block;margin-right:1.2em}.mono{font-family:ui-monospace,Consolas,monospace;font-size:.92em}
"""


def to_html(inv: Inventory, *, endpoint: str, client: str | None, generated: datetime, writes_only: bool = False) -> str:
    s = inv.summary()
    parts = [f"<!doctype html><html lang=en><meta charset=utf-8><title>SMART scope inventory: {escape(endpoint)}</title>",
             f"<style>{_CSS}</style><body><h1>SMART scope inventory: {escape(endpoint)}</h1>",
             f"<div class=meta>Client {escape(client or 'not set')} · generated {generated:%Y-%m-%d %H:%M} UTC · "
             f"{s['resource_types']} resource types</div><div class=counts>"]
    parts += [f"<span><b>{s['flags'][sev]}</b> {sev}</span>" for sev in SEVERITIES]
    parts += [f"<span>{s[f'{layer}_scopes']} {layer} scopes</span>" for layer in LAYERS]
    parts.append("</div><h2>Flags</h2>")
    if inv.flags:
        parts.append("<table><tr><th>Severity</th><th>Scope</th><th>Finding</th></tr>")
        order = {sev: i for i, sev in enumerate(SEVERITIES)}
        for f in sorted(inv.flags, key=lambda f: (order[f.severity], f.scope)):
            parts.append(f"<tr class={f.severity}><td>{f.severity}</td><td class=mono>{escape(f.scope)}</td>"
                         f"<td>{escape(f.text)}</td></tr>")
        parts.append("</table>")
    else:
        parts.append("<p>No findings.</p>")
    parts.append(f"<h2>Matrix{' (writes only)' if writes_only else ''}</h2><table><tr><th>Resource</th>"
                 "<th>Interaction</th><th>Supported</th>" + "".join(f"<th>{layer.title()}</th>" for layer in LAYERS)
                 + "<th>Flags</th></tr>")
    for r in inv.rows(writes_only):
        supported = {True: ("yes", "yes"), False: ("no", "no"), None: ("", "unknown")}[r["supported"]]
        gap = r["granted"] and r["supported"] is False
        cells = "".join(f"<td class={'gap' if layer == 'granted' and gap else ''}>{escape(', '.join(r[layer]))}</td>"
                        for layer in LAYERS)
        parts.append(f"<tr><td>{escape(r['resource'])}</td><td class={'w' if r['interaction'] in WRITE_INTERACTIONS else ''}>"
                     f"{INTERACTION_WORDS[r['interaction']]}</td><td class={supported[0]}>{supported[1]}</td>{cells}"
                     f"<td class=mono>{escape(' '.join(r['flags']))}</td></tr>")
    parts.append("</table></body></html>")
    return "\n".join(parts)
