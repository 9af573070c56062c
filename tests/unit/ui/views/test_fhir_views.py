"""The Endpoints and Scopes tabs on the demo's FHIR server (real HTTP on loopback)."""
from __future__ import annotations

import pytest
from PySide6.QtWidgets import QFileDialog

from core import demo_fhir
from core.commands.context import Context
from core.fhir import inventory
from core.fhir.scopes import parse
from tests.helpers.stores import settle_workers
from ui.dialogs.endpoint import EndpointDialog
from ui.models.endpoint_table import COL_STATUS, EndpointTableModel, certificate_text
from ui.models.scope_matrix import FlagTableModel, ScopeMatrixModel
from ui.views.endpoints_view import EndpointsView
from ui.views.scopes_view import ScopesView


@pytest.fixture
def fhir(store):
    ctx = Context(store, actor="tester")
    server = demo_fhir.start(ctx)
    yield ctx
    settle_workers()
    server.__exit__(None, None, None)


def test_models_pass_the_model_tester(qtmodeltester, fhir):
    from core.store import endpoints

    table = EndpointTableModel()
    table.set_rows(endpoints.overview(fhir.store))
    qtmodeltester.check(table)
    inv = inventory.of_endpoint(endpoints.get(fhir.store, "Patient portal app"))
    matrix, flags = ScopeMatrixModel(), FlagTableModel()
    matrix.set_inventory(inv)
    flags.set_flags(inv.flags)
    qtmodeltester.check(matrix)
    qtmodeltester.check(flags)
    assert flags.index(0, 0).data() == "high"  # the worst first


def test_endpoints_tab_shows_health_and_probes_without_blocking(qtbot, fhir):
    view = EndpointsView(fhir)
    qtbot.addWidget(view)
    view.show()
    view.refresh()
    qtbot.waitUntil(lambda: view.model.rowCount() == 3, timeout=5000)
    statuses = {view.model.rows[r]["name"]: view.model.index(r, COL_STATUS).data() for r in range(3)}
    assert statuses["Quest results FHIR"] == "Down" and statuses["Northside EHR (backend)"] == "OK"
    qtbot.waitUntil(lambda: "probes in the last two days" in view.steps.text(), timeout=5000)
    assert view.plot.getPlotItem().listDataItems()  # the latency history is drawn
    view.probe_all()
    assert view.probing and not view.probe.isEnabled()
    qtbot.waitUntil(lambda: not view.probing and view.state.text().startswith("Probed 3"), timeout=15_000)


def test_scopes_tab_filters_to_writes_and_exports(qtbot, fhir, tmp_path, monkeypatch):
    view = ScopesView(fhir)
    qtbot.addWidget(view)
    view.refresh()
    qtbot.waitUntil(lambda: view.chooser.count() == 3 and view.inventory is not None, timeout=5000)
    view.chooser.setCurrentIndex(view.chooser.findText("Patient portal app"))
    qtbot.waitUntil(lambda: view.endpoint is not None and view.endpoint["name"] == "Patient portal app", timeout=5000)
    assert "2 high" in view.summary.text()
    view.writes.setChecked(True)
    assert view.matrix.rows and all(r["interaction"] in "cud" for r in view.matrix.rows)
    assert all(parse(f.scope).is_write for f in view.flags.rows)
    target = tmp_path / "review.html"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    view.export("html")
    assert "patient/MedicationRequest.write" in target.read_text() and "Exported to" in view.summary.text()


def test_endpoint_dialog_shows_the_fields_of_its_method_and_clears_with_empty_text(qtbot, tmp_path):
    key = tmp_path / "k.pem"
    key.write_text("-----BEGIN PRIVATE KEY-----\n...")
    dialog = EndpointDialog(None)
    qtbot.addWidget(dialog)
    dialog.name.setText("Lab")
    dialog.url.setText("https://lab.example/fhir")
    dialog.auth.setCurrentIndex(dialog.auth.findData("backend"))
    assert dialog.form.isRowVisible(dialog.alg) and not dialog.form.isRowVisible(dialog.secret)
    dialog.key_file.setText(str(key))
    dialog.client_id.setText("lw")
    name, secret, settings = dialog.values()
    assert (name, settings["auth"], settings["alg"], settings["token_url"]) == ("Lab", "backend", "RS384", "")
    assert secret.startswith("-----BEGIN PRIVATE KEY")


def test_certificate_words():
    from datetime import datetime

    now = datetime(2026, 11, 24)
    assert certificate_text(datetime(2026, 12, 4), now) == "2026-12-04 (10 days) — renew soon"
    assert certificate_text(datetime(2026, 1, 1), now) == "expired 2026-01-01"
    assert certificate_text(None, now) == ""
