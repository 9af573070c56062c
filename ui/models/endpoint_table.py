"""FHIR endpoints, one row each: what they are, their health and their certificate."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from PySide6.QtCore import Qt

from core.ingest import utcnow
from core.vocabulary import Health
from ui import icons
from ui.models.common import Index, RowsTableModel

COL_NAME, COL_URL, COL_AUTH, COL_FHIR, COL_STATUS, COL_LATENCY, COL_CERT, COL_PROBED, COL_PROBLEM = range(9)
HEADERS = ("Endpoint", "Base URL", "Auth", "FHIR", "Status", "Latency", "Certificate", "Last probe (UTC)", "Problem")
ID_ROLE = Qt.ItemDataRole.UserRole + 1
STATUS_WORDS = {"ok": "OK", "degraded": "Degraded", "down": "Down", None: "Not probed"}
CERT_WARN_DAYS = 30


def certificate_text(expires: datetime | None, now: datetime) -> str:
    if expires is None:
        return ""
    days = (expires - now).days
    if days < 0:
        return f"expired {expires:%Y-%m-%d}"
    return f"{expires:%Y-%m-%d} ({days} days)" + (" — renew soon" if days < CERT_WARN_DAYS else "")


class EndpointTableModel(RowsTableModel):
    HEADERS = HEADERS

    def __init__(self, parent=None, now=utcnow) -> None:
        super().__init__(parent)
        self.now = now

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        r, col = self.row(index), index.column()
        if r is None:
            return None
        if role == ID_ROLE:
            return r["id"]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(r, col)
        if role == Qt.ItemDataRole.DecorationRole and col == COL_STATUS:
            return icons.state(Health.of(r["status"] or "quiet"))
        if role == Qt.ItemDataRole.ToolTipRole and col in (COL_PROBLEM, COL_URL, COL_FHIR):
            return {COL_PROBLEM: r["detail"] or r["discovery_problem"], COL_URL: r["base_url"],
                    COL_FHIR: r["software"]}[col]
        if role == Qt.ItemDataRole.TextAlignmentRole and col == COL_LATENCY:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _text(self, r: dict, col: int) -> str:
        if col == COL_NAME:
            return r["name"]
        if col == COL_URL:
            return r["base_url"]
        if col == COL_AUTH:
            return r["auth"].replace("_", " ")
        if col == COL_FHIR:
            return r["fhir_version"] or ""
        if col == COL_STATUS:
            return STATUS_WORDS.get(r["status"], r["status"])
        if col == COL_LATENCY:
            return f"{r['latency_ms']:.0f} ms" if r["latency_ms"] is not None and r["status"] != "down" else ""
        if col == COL_CERT:
            return certificate_text(r["cert_expires_at"], self.now())
        if col == COL_PROBED:
            return f"{r['probed_at']:%Y-%m-%d %H:%M:%S}" if r["probed_at"] else ""
        return r["detail"] or r["discovery_problem"] or ""
