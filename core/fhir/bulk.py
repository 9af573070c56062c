"""Bulk data export ($export): start a job or attach to one by its status URL, poll it as the
server asks (Retry-After, X-Progress), read the manifest's outputs with their counts, and
put the OperationOutcomes of its error files into the queue, each with its words."""
from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from core.fhir.client import FhirClient, FhirError
from core.fhir.outcome import describe, outcome_text, retry_after_s

DEFAULT_POLL_S = 5.0
MAX_POLL_S = 120.0


@dataclass
class Output:
    type: str
    url: str
    count: int | None  # from the manifest, else counted from the file; None when it could not be read


@dataclass
class Job:
    status_url: str
    state: str = "in-progress"  # in-progress, complete, failed
    progress: str | None = None  # X-Progress, as the server words it
    outputs: list[Output] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # OperationOutcomes in words
    problem: str | None = None
    transaction_time: str | None = None


def kick_off(client: FhirClient, *, level: str = "", types: list[str] | None = None, since: str | None = None) -> Job:
    """Start an export (level: "" for the system, "Patient", or "Group/ID"); returns the job to poll."""
    path = f"{level.strip('/')}/$export" if level else "$export"
    params = {k: v for k, v in (("_type", ",".join(types or [])), ("_since", since)) if v}
    response = client.get(path, params=params or None, headers={"Prefer": "respond-async"})
    if response.status_code != 202 or not response.headers.get("Content-Location"):
        raise FhirError(f"the export did not start: {describe(response) or f'HTTP {response.status_code} without a status URL'}",
                        response.status_code)
    return Job(response.headers["Content-Location"])


def poll_once(client: FhirClient, job: Job) -> float | None:
    """Look at the job once; returns how long to wait before the next look (None once it is done)."""
    response = client.get(job.status_url)
    if response.status_code == 202:
        job.progress = response.headers.get("X-Progress") or job.progress
        return min(retry_after_s(response) or DEFAULT_POLL_S, MAX_POLL_S)
    if response.status_code == 429:
        return min(retry_after_s(response) or DEFAULT_POLL_S, MAX_POLL_S)
    if not response.is_success:
        job.state, job.problem = "failed", describe(response)
        return None
    manifest = response.json()
    job.state, job.transaction_time = "complete", manifest.get("transactionTime")
    # files may live elsewhere (a storage bucket): the token goes only where the manifest says it is needed
    # (some servers write the flag as the string "true")
    anonymous = str(manifest.get("requiresAccessToken", True)).lower() == "false"
    for out in manifest.get("output") or []:
        count = out.get("count")
        job.outputs.append(Output(out.get("type", "?"), out.get("url", ""), int(count) if count is not None else
                                  _count_lines(client, out.get("url", ""), anonymous)))
    for err in manifest.get("error") or []:
        job.errors += _outcomes(client, err.get("url", ""), anonymous)
    return None


def follow(client: FhirClient, job: Job, *, sleep: Callable[[float], None] = time.sleep,
           on_progress: Callable[[Job], None] | None = None, deadline_s: float = 3600.0) -> Job:
    """Poll until the job completes or fails (or the deadline passes)."""
    started = time.monotonic()
    while (wait := poll_once(client, job)) is not None:
        if on_progress:
            on_progress(job)
        if time.monotonic() - started + wait > deadline_s:
            job.problem = f"still running after {deadline_s:.0f} s; attach again later with its status URL"
            return job
        sleep(wait)
    return job


def _download(client: FhirClient, url: str, anonymous: bool) -> str | None:
    try:
        response = client.get(url, anonymous=anonymous, headers={"Accept": "application/fhir+ndjson"})
    except FhirError:
        return None
    return response.text if response.is_success else None


def _count_lines(client: FhirClient, url: str, anonymous: bool) -> int | None:
    body = _download(client, url, anonymous)
    return None if body is None else sum(1 for line in body.splitlines() if line.strip())


def _outcomes(client: FhirClient, url: str, anonymous: bool) -> list[str]:
    body = _download(client, url, anonymous)
    if body is None:
        return [f"an error file could not be read ({url})"]
    out = []
    for line in body.splitlines():
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
        except ValueError:
            out.append("an error file line is not JSON")
            continue
        out.append(outcome_text(doc) if isinstance(doc, dict) else "an error file line is not an object")
    return out
