"""Screenshots for the README, made from a demo workspace (never by hand).

Run: uv run python packaging/screenshots/make_screenshots.py
Writes main-light.png, main-dark.png, detail.png, privacy.png, queue.png, correction.png,
audit.png, endpoints.png, scopes.png, fhir-write.png, overview.png, board.png, alerts.png, trace.png, direct.png,
query.png, export.png, statistics.png,
statistics-times.png, compare.png, compare-views.png, welcome.png and store-settings.png next to this file.
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings  # noqa: E402

from core import demo_direct, demo_engine, demo_fhir  # noqa: E402
from core.commands.context import Context  # noqa: E402
from core.demo import add_alert_rules, workspace  # noqa: E402
from core.ingest import Ingestor  # noqa: E402
from core.store import direct, fhir, messages  # noqa: E402
from core.store.db import open_store  # noqa: E402
from core.store.messages import MessageFilter  # noqa: E402
from ui.app import application  # noqa: E402
from ui.main_window import MainWindow  # noqa: E402

HERE = Path(__file__).resolve().parent
NOW = datetime(2026, 11, 24, 14, 30)


def settle(app, seconds: float = 1.5) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def settle_until(app, ready, tries: int) -> None:
    """Let the window work until `ready()` (what it reads behind the window has come), a fifth of a second at a time."""
    for _ in range(tries):
        settle(app, 0.2)
        if ready():
            return


def queue_shots(app, window) -> None:
    """The Queue tab with its biggest NAK group open, a correction's diff, and the audit trail."""
    from ui.dialogs.correct import CorrectionDialog

    window.tabs.setCurrentWidget(window.queue_split)
    window.queue.refresh()
    settle(app)
    model, tree = window.queue.model, window.queue.tree
    rows = [model.index(r, 0) for r in range(model.rowCount())]
    group = max((i for i in rows if model.node(i)["kind"] == "invalid"), key=lambda i: model.node(i)["items"])
    tree.expand(group)
    settle(app)
    tree.setCurrentIndex(model.index(0, 0, group))
    settle(app)
    window.grab().save(str(HERE / "queue.png"))
    message_id = model.node(model.index(0, 0, group))["message_id"]
    dialog = CorrectionDialog(window.context, [message_id], window)
    dialog.edits.setPlainText("PID-3.1 = MRN104242\nPID-3.5 = MR")
    dialog.show()
    settle(app, 0.5)
    dialog.preview()
    settle(app, 2.0)
    dialog.grab().save(str(HERE / "correction.png"))
    dialog.save()
    settle(app, 1.0)
    window.tabs.setCurrentWidget(window.audit)
    settle(app)
    window.grab().save(str(HERE / "audit.png"))
    window.tabs.setCurrentWidget(window.right)


def fhir_shots(app, window) -> None:
    """The Endpoints tab (health and latency history) and the Scopes tab of a patient-facing app."""
    window.tabs.setCurrentWidget(window.endpoints)
    settle(app)
    window.grab().save(str(HERE / "endpoints.png"))
    window.tabs.setCurrentWidget(window.scopes)
    settle(app)
    window.scopes.chooser.setCurrentIndex(window.scopes.chooser.findText("Patient portal app"))
    settle(app)
    window.grab().save(str(HERE / "scopes.png"))
    window.tabs.setCurrentWidget(window.right)
    refused = next(e for e in fhir.exchanges(window.store, failed=True, limit=1000) if e["status"] == 422)
    window.open_message(refused["message_id"])
    settle(app)
    window.right.setSizes([260, 680])
    window.detail.tree.expandToDepth(1)
    settle(app, 0.5)
    window.grab().save(str(HERE / "fhir-write.png"))
    window.right.setSizes([200, 740])


def flow_shots(app, window, store) -> None:
    """The Overview (map and charts of the busiest flow), the go-live board, alerts, a trace."""
    from core.store import trace
    from ui.dialogs.trace import TraceDialog

    window.tabs.setCurrentWidget(window.overview)
    settle(app, 2.5)
    window.overview._choose(window.overview.map.edges[0].flow, emit=False)
    settle(app, 1.5)
    window.grab().save(str(HERE / "overview.png"))
    window.tabs.setCurrentWidget(window.board)
    settle(app)
    window.grab().save(str(HERE / "board.png"))
    window.tabs.setCurrentWidget(window.alerts)
    window.alerts.evaluate()
    settle(app, 2.0)
    window.grab().save(str(HERE / "alerts.png"))
    order = chain_of_an_order(store)
    dialog = TraceDialog(trace.trace(store, order), window)
    dialog.show()
    settle(app, 1.0)
    dialog.grab().save(str(HERE / "trace.png"))
    dialog.close()
    window.tabs.setCurrentWidget(window.right)


def direct_shot(app, window, store) -> None:
    """A referral sent by Direct: its recipient dispatched it; the document it carries, read."""
    sent = next(d for d in direct.deliveries(store) if d["state"] == "dispatched")
    window.tabs.setCurrentWidget(window.right)
    window.open_message(sent["message_id"])
    window.detail.tabs.setCurrentWidget(window.detail.raw)
    settle(app)
    window.grab().save(str(HERE / "direct.png"))
    window.detail.tabs.setCurrentIndex(0)


def query_shot(app, window) -> None:
    """A field-path query in the Messages tab: high results of female patients."""
    bar = window.messages_view.filter_bar
    bar.where.setText("OBX[*]-8 in ('H','HH') and PID-8 = F")
    bar.where.returnPressed.emit()
    # the query reads its candidates behind the window
    settle_until(app, lambda: window.messages.rows and window.messages.rows[0]["message_type"] == "ORU^R01", 50)
    window.open_message(window.messages.rows[0]["id"])
    settle(app, 0.5)
    window.grab().save(str(HERE / "query.png"))
    bar.where.clear()
    bar.where.returnPressed.emit()
    settle(app)


def export_shot(app, window) -> None:
    """The de-identified export dialog, over three chosen ADTs."""
    from core.store import messages
    from ui.dialogs.export_deidentified import ExportDeidentifiedDialog

    dialog = ExportDeidentifiedDialog(3, window)
    dialog.set_filtered_count(messages.count(window.context.store, window.filter_bar.message_filter()))
    dialog.path.setText(str(Path.home() / "Documents" / "for-vendor-adt.hl7"))
    dialog.allow.setText("NTE-3")
    dialog.show()
    settle(app, 0.5)
    dialog.grab().save(str(HERE / "export.png"))
    dialog.close()


def compare_shots(app, window, store) -> None:
    """A preliminary result and its correction side by side, and our lab orders against the
    lab's results paired by ORC-2 (the orders with no result yet are "only in" the orders)."""
    from core.commands.context import Context
    from core.commands.views import SaveView
    from core.store import messages
    from ui.dialogs.compare import CompareDialog, CompareViewsDialog

    a, b = (messages.page(store, messages.MessageFilter(control_id=c), limit=1)[0]["id"] for c in ("R777-1", "R777-3"))
    dialog = CompareDialog(window.context, a, b, window)
    dialog.resize(1000, 640)
    dialog.only_differences.setChecked(False)  # every field, what differs marked
    dialog.show()
    settle_until(app, lambda: dialog.rows, 25)
    dialog.grab().save(str(HERE / "compare.png"))
    dialog.close()
    ctx = Context(store, actor="screenshots")
    SaveView(ctx).run("Our lab orders", {"type": ["ORM"]})
    SaveView(ctx).run("Lab results", {"type": ["ORU"]})
    views = CompareViewsDialog(window.context, window)
    views.show()
    settle(app, 0.5)
    views.right.setCurrentText("Lab results")
    views.left.setCurrentText("Our lab orders")
    views.run()
    settle_until(app, lambda: views.found, 50)
    views.grab().save(str(HERE / "compare-views.png"))
    views.close()


def stats_shot(app, window) -> None:
    """Field statistics of the lab results: the result names, the abnormal flags, the sexes,
    the times; drift over the last four hours of the demo's traffic."""
    bar = window.messages_view.filter_bar
    bar.type.setCurrentText("ORU")
    bar.changed.emit()
    window.tabs.setCurrentWidget(window.stats)
    window.stats.paths.setText("OBX[*]-3.2, OBX[*]-8, PID-8, MSH-7")
    window.stats.since.setText((NOW - timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M"))
    window.stats.compute()
    settle_until(app, lambda: window.stats.go.isEnabled() and window.stats.report, 100)
    settle(app, 0.5)
    window.grab().save(str(HERE / "statistics.png"))
    window.stats.summary.setCurrentCell(3, 0)
    settle(app, 0.5)
    window.grab().save(str(HERE / "statistics-times.png"))
    bar.type.setCurrentIndex(0)
    bar.changed.emit()
    window.tabs.setCurrentWidget(window.right)


def first_run_shots(app) -> None:
    """The welcome page a workstation with no store opens on, and Settings → Store on a shared store."""
    from ui.dialogs.store_settings import SHARED, StoreDialog
    from ui.dialogs.welcome import WelcomeDialog

    page = WelcomeDialog()
    page.show()
    settle(app, 0.5)
    page.grab().save(str(HERE / "welcome.png"))
    page.close()
    dialog = StoreDialog(start_on=SHARED)
    dialog.host.setText("db.northside-fm.example")
    dialog.user.setText("golive")
    dialog.password.setText("a-password")
    dialog.show()
    settle(app, 0.5)
    dialog.grab().save(str(HERE / "store-settings.png"))
    dialog.close()


def chain_of_an_order(store) -> int:
    """A lab order with its ACK and three results (preliminary, final, corrected), as a real lab sends them."""
    from datetime import timedelta

    from core.hl7.ack import build

    def oru(cid, at, status):
        return (f"MSH|^~\\&|QUEST|QUEST_LAB|ECW|NORTHSIDE_FM|{at:%Y%m%d%H%M%S}||ORU^R01^ORU_R01|{cid}|P|2.5.1\r"
                f"PID|1||MRN104242^^^NFM^MR||DOE^JANE\rOBR|1|ORD777|Q777|CMP^Metabolic panel|||||||||||||||||||||{status}\r"
                f"OBX|1|NM|GLU^Glucose||98|mg/dL\r").encode()

    t0 = NOW - timedelta(hours=20)
    order = (f"MSH|^~\\&|ECW|NORTHSIDE_FM|QUEST|QUEST_LAB|{t0:%Y%m%d%H%M%S}||ORM^O01^ORM_O01|ORD777-1|P|2.5.1\r"
             f"PID|1||MRN104242^^^NFM^MR||DOE^JANE\rORC|NW|ORD777\rOBR|1|ORD777||CMP^Metabolic panel\r").encode()
    raws = [order, build(order, "AA", None, control_id="QA777", timestamp=f"{t0 + timedelta(seconds=4):%Y%m%d%H%M%S}"),
            oru("R777-1", t0 + timedelta(hours=3), "P"), oru("R777-2", t0 + timedelta(hours=9), "F"),
            oru("R777-3", t0 + timedelta(hours=18), "C")]
    return Ingestor(store, now=lambda: NOW).ingest_messages("screenshot chain", raws, transport="file")[0]


def main() -> int:
    app = application()
    first_run_shots(app)
    root = Path(tempfile.mkdtemp(prefix="lanewatch-shots-"))
    store = open_store(f"sqlite:///{root / 'demo.db'}")
    logs = workspace(root, 20_000, now=NOW)
    demo_direct.write(logs / "direct", now=NOW)
    Ingestor(store, now=lambda: NOW).ingest_paths([logs])
    # a lab result the receiver answered with an error: the detail pane has most to say
    nak = messages.page(store, MessageFilter(types=["ORM"], ack_states=["error"]), limit=1)[0]
    server = demo_fhir.start(Context(store, actor="demo", now=lambda: NOW))
    Ingestor(store, now=lambda: NOW).ingest_paths([demo_fhir.write_har(logs / "fhir", server, Context(store, now=lambda: NOW))])
    engine = demo_engine.start(Context(store, actor="demo", now=lambda: NOW))  # its channels on the Board and in the Queue
    add_alert_rules(Context(store, actor="demo", now=lambda: NOW))
    for theme in ("light", "dark"):
        settings = QSettings(str(root / f"{theme}.ini"), QSettings.Format.IniFormat)
        settings.setValue("preferences/theme", theme)
        window = MainWindow(store, settings, title_note="demo workspace")
        window.context.now = lambda: NOW  # the demo traffic ends at NOW: the Overview's window ends there too
        window.set_theme(theme)
        window.tabs.setCurrentWidget(window.right)
        window.resize(1500, 940)
        window.show()
        settle(app)
        window.open_message(nak["id"])
        settle(app)
        window.grab().save(str(HERE / f"main-{theme}.png"))
        if theme == "light":
            window.right.setSizes([200, 740])
            window.detail.tree.expandAll()
            settle(app, 0.3)
            window.detail.grab().save(str(HERE / "detail.png"))
            window.set_privacy(True)
            window.detail.tabs.setCurrentWidget(window.detail.raw)
            settle(app, 0.5)
            window.grab().save(str(HERE / "privacy.png"))
            window.set_privacy(False)
            direct_shot(app, window, store)
            query_shot(app, window)
            export_shot(app, window)
            stats_shot(app, window)
            queue_shots(app, window)
            fhir_shots(app, window)
            flow_shots(app, window, store)
            compare_shots(app, window, store)  # after the flows: its pair is the order chain they add
        window.close()
    server.__exit__(None, None, None)
    engine.stop()
    store.close()
    print(f"screenshots written to {HERE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
