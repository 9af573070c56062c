"""Checks of FHS/BHS/BTS/FTS envelopes: trailer counts against what the file really holds.

The tracker's state is a small dict so it can be stored with a file's offset and resumed
after a restart in the middle of a batch.
"""
from __future__ import annotations


def _field(segment: bytes, n: int) -> str:
    """Field n of a batch segment (FHS/BHS count like MSH: FHS-1 is the separator)."""
    sep = segment[3:4]
    parts = segment.rstrip(b"\r\n").split(sep) if sep else []
    seg_id = segment[:3]
    index = n - 1 if seg_id in (b"FHS", b"BHS") else n
    return parts[index].decode("latin-1").strip() if len(parts) > index else ""


class BatchTracker:
    """Counts messages and batches between envelope segments and reports mismatches."""

    def __init__(self, state: dict | None = None) -> None:
        self.state = dict(state or {"file": None, "batch": None, "batches": 0, "messages": 0})

    def message(self) -> None:
        if self.state["batch"] is not None:
            self.state["messages"] += 1

    def segment(self, segment: bytes, offset: int) -> str | None:
        """Take one envelope segment; returns a problem in words, or None."""
        seg = segment[:3]
        s = self.state
        if seg == b"FHS":
            problem = self._unclosed("file", "FTS") if s["file"] is not None else None
            s.update(file=offset, batches=0)
            return problem
        if seg == b"BHS":
            problem = self._unclosed("batch", "BTS") if s["batch"] is not None else None
            s.update(batch=offset, messages=0)
            return problem
        if seg == b"BTS":
            if s["batch"] is None:
                return f"BTS at byte {offset} closes a batch that was never opened (no BHS)"
            declared, counted = _field(segment, 1), s["messages"]
            s["batch"] = None
            s["batches"] += 1
            if declared and declared != str(counted):
                return (f"BTS-1 says {declared} message{'s' if declared != 1 else ''} but the batch holds {counted} "
                        f"(BTS at byte {offset:,})")
            return None
        if seg == b"FTS":
            if s["file"] is None:
                return f"FTS at byte {offset} closes a file batch that was never opened (no FHS)"
            declared, counted = _field(segment, 1), s["batches"]
            s["file"] = None
            if declared and declared != str(counted):
                return f"FTS-1 says {declared} batch(es) but the file holds {counted} (FTS at byte {offset})"
        return None

    def finish(self) -> list[str]:
        """At the end of a file: envelopes opened and never closed."""
        problems = []
        if self.state["batch"] is not None:
            problems.append(self._unclosed("batch", "BTS"))
        if self.state["file"] is not None:
            problems.append(self._unclosed("file", "FTS"))
        self.state.update(file=None, batch=None)
        return problems

    def _unclosed(self, what: str, trailer: str) -> str:
        header = "FHS" if what == "file" else "BHS"
        return f"the {header} at byte {self.state[what]} opens a batch with no {trailer} trailer"
