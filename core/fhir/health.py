"""A health probe of one endpoint: its metadata, a token (when it needs one) and one read,
each timed, with what went wrong in words. Probes of many endpoints run side by side."""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from core.fhir.auth import AuthError
from core.fhir.client import FhirClient, FhirError
from core.fhir.outcome import describe

DEFAULT_READ = "Patient?_count=1"
SLOW_MS = 3000.0  # a probe slower than this is degraded


@dataclass
class Step:
    step: str  # metadata, token, read
    ok: bool
    ms: float
    http_status: int | None = None
    detail: str = ""


@dataclass
class Probe:
    status: str  # ok, degraded, down
    latency_ms: float
    steps: list[Step] = field(default_factory=list)
    granted: str | None = None  # the token's scope, when a token was had

    @property
    def detail(self) -> str:
        bad = next((s for s in self.steps if not s.ok), None)
        if bad:
            return f"{bad.step}: {bad.detail}"
        return f"slow: {self.latency_ms:.0f} ms" if self.status == "degraded" else ""


def probe(endpoint: dict, *, timeout: float = 15.0) -> Probe:
    steps: list[Step] = []
    granted = None
    t0 = time.perf_counter()
    with FhirClient(endpoint, timeout=timeout, sleep=lambda s: None) as client:  # a probe reports a 429, it does not wait
        steps.append(_timed("metadata", lambda: client.get("metadata", anonymous=True)))
        if steps[0].ok and client.tokens.method != "none":
            t = time.perf_counter()
            try:
                token = client.tokens.current()
                granted = token.scope if token else None
                steps.append(Step("token", True, _ms(t)))
            except AuthError as exc:
                steps.append(Step("token", False, _ms(t), detail=str(exc)))
        if all(s.ok for s in steps):
            steps.append(_timed("read", lambda: client.get(endpoint.get("probe_path") or DEFAULT_READ)))
    total = _ms(t0)
    if not steps[0].ok:
        status = "down"
    elif not all(s.ok for s in steps) or total > SLOW_MS:
        status = "degraded"
    else:
        status = "ok"
    return Probe(status, total, steps, granted)


def probe_many(endpoints: list[dict], *, timeout: float = 15.0, workers: int = 20) -> list[Probe]:
    """Probe endpoints at once (each waits on its own server, not on the others)."""
    if not endpoints:
        return []
    with ThreadPoolExecutor(max_workers=min(workers, len(endpoints)), thread_name_prefix="lanewatch-probe") as pool:
        return list(pool.map(lambda e: probe(e, timeout=timeout), endpoints))


def _timed(name: str, call) -> Step:
    t = time.perf_counter()
    try:
        response = call()
    except FhirError as exc:
        return Step(name, False, _ms(t), exc.status, str(exc))
    return Step(name, response.is_success, _ms(t), response.status_code, describe(response))


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 1)
