"""The Alerts tab: open and acknowledged alerts (and those cleared in the last day), the
rules, acknowledging (audited), and adding a rule. Rules are evaluated off the GUI thread
on a timer and whenever the window sees new traffic; new alerts are announced in the
system tray when there is one."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from core import alerts
from core.changes import RULES, Changes
from core.commands.context import Context
from core.store import alerts as store_alerts
from core.store import interfaces
from core.vocabulary import AlertState
from ui import icons
from ui.actions import confirm_then, operations, run_command
from ui.models.common import Index, RowsTableModel
from ui.views.grid import grid
from ui.views.tab_layout import bar_over_split
from ui.workers import submit

EVALUATE_MS = 30_000
class RowsModel(RowsTableModel):
    """The alerts, or the rules: `cells(row)` gives a row's texts."""

    def __init__(self, headers: tuple[str, ...], cells, parent=None) -> None:
        super().__init__(parent)
        self.HEADERS, self.cells = headers, cells

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        r = self.row(index)
        if r is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.cells(r)[index.column()]
        if role == Qt.ItemDataRole.DecorationRole and index.column() == 0 and "state" in r:
            return icons.state(AlertState.of(r["state"]))
        if role == Qt.ItemDataRole.ToolTipRole and "text" in r:
            return r["text"] + (f"\nNote: {r['note']}" if r.get("note") else "")
        return None


def _alert_cells(a: dict) -> tuple:
    who = f"{a['acknowledged_by']} at {a['acknowledged_at']:%H:%M}" if a["acknowledged_by"] else ""
    return (a["state"], f"{a['raised_at']:%Y-%m-%d %H:%M}", a["interface"] or "", a["kind"].replace("_", " "), a["text"],
            who, f"{a['cleared_at']:%H:%M}" if a["cleared_at"] else "")


def _rule_cells(r: dict) -> tuple:
    when = " ".join(filter(None, [r["hours"], f"days {r['weekdays']}" if r["weekdays"] else None])) or "always"
    limit = f"> {r['threshold']:g} {alerts.KINDS[r['kind']]}" + (f" of {r['path']}" if r.get("path") else "")
    return (r["kind"].replace("_", " "), limit, r.get("interface") or "every interface",
            f"{r['window_min']} min", when, "on" if r["enabled"] else "off")


class AlertsView(QWidget):
    raised = Signal(list)  # new alerts (dicts): the window announces them
    counts = Signal(int)  # open alerts now

    def __init__(self, ctx: Context, parent=None) -> None:
        super().__init__(parent)
        operations().did_change.connect(self._on_change)
        self.ctx = ctx
        self.alerts = RowsModel(("State", "Raised (UTC)", "Interface", "Rule", "What", "Acknowledged", "Cleared"),
                                _alert_cells, self)
        self.rules = RowsModel(("Rule", "Limit", "Interface", "Window", "When", "On"), _rule_cells, self)
        self.alert_table = grid(self.alerts, "alerts", dict(enumerate((80, 120, 130, 95, 390, 150))))  # all within the tab
        self.rule_table = grid(self.rules, "alert_rules", dict(enumerate((120, 160, 200, 80, 160))))
        self.ack = QPushButton("Acknowledge…")
        self.add = QPushButton("Add rule…")
        self.edit = QPushButton("Edit rule…")
        self.switch = QPushButton("Turn rule off/on")
        self.remove = QPushButton("Delete rule…")
        self.state = QLabel()
        bar = QHBoxLayout()
        for w in (self.ack, self.add, self.edit, self.switch, self.remove, self.state):
            bar.addWidget(w)
        bar.addStretch(1)
        bar_over_split(self, bar, self.alert_table, self.rule_table, name="alerts_split", stretch=(3, 1))
        self.ack.clicked.connect(self.acknowledge)
        self.add.clicked.connect(self.add_rule)
        self.edit.clicked.connect(self.edit_rule)
        self.switch.clicked.connect(self.switch_rule)
        self.remove.clicked.connect(self.delete_rule)
        self.timer = QTimer(self, interval=EVALUATE_MS)
        self.timer.timeout.connect(self.evaluate)
        self.timer.start()
        self._evaluating = False

    def evaluate(self) -> None:
        """Run the rules (off the GUI thread), then show what is active."""
        if self._evaluating:
            return
        self._evaluating = True
        now = self.ctx.now()

        def run():
            change = alerts.evaluate(self.ctx.store, now)
            return change, self._read(now)

        def done(result) -> None:
            self._evaluating = False
            change, found = result
            self._show(*found)
            if change.raised:
                self.raised.emit(change.raised)

        def failed(text: str) -> None:
            self._evaluating = False
            self.state.setText(f"Could not evaluate the alert rules: {text}")

        submit(run, done, failed, context=self)

    def _on_change(self, changes: Changes) -> None:
        """A command changed what this view shows (ui.actions): read it again."""
        if changes.alerts:
            self.evaluate()

    def refresh(self) -> None:
        now = self.ctx.now()
        submit(lambda: self._read(now), lambda found: self._show(*found), context=self)

    def _read(self, now) -> tuple[list[dict], list[dict]]:
        return store_alerts.active(self.ctx.store, include_cleared_since=now - timedelta(days=1)), store_alerts.rules(self.ctx.store)

    def _show(self, current: list[dict], rules: list[dict]) -> None:
        self.alerts.set_rows(current)
        self.rules.set_rows(rules)
        open_now = sum(a["state"] == AlertState.OPEN for a in current)
        self.state.setText(f"{open_now} open, {sum(a['state'] == 'acknowledged' for a in current)} acknowledged; "
                           f"{len(rules)} rules, evaluated every {EVALUATE_MS // 1000} s and as traffic arrives.")
        self.counts.emit(open_now)

    def acknowledge(self) -> None:
        index = self.alert_table.currentIndex()
        if not index.isValid():
            return
        alert = self.alerts.rows[index.row()]
        note, ok = QInputDialog.getText(self, "Acknowledge alert", f"{alert['text']}\n\nNote (recorded in the audit trail):")
        if ok:
            run_command(self, "Acknowledge alert", lambda: alerts.acknowledge(self.ctx, alert["id"], note or None),
                        lambda _: None, changes=RULES)

    def add_rule(self) -> None:
        submit(lambda: interfaces.names(self.ctx.store), self._add_rule, self.state.setText, context=self)

    def _add_rule(self, names: dict[int, str]) -> None:
        dialog = RuleDialog(names, self)
        if dialog.exec():
            values = dialog.values()
            run_command(self, "Add alert rule", lambda: alerts.add_rule(self.ctx, **values), lambda _: None,
                        changes=RULES)


    def _chosen_rule(self) -> dict | None:
        index = self.rule_table.currentIndex()
        return self.rules.rows[index.row()] if index.isValid() else None

    def edit_rule(self) -> None:
        """Change a rule's limit, window, hours or interface (audited)."""
        rule = self._chosen_rule()
        if rule is None:
            self.state.setText("Choose a rule in the lower table first.")
            return
        submit(lambda: interfaces.names(self.ctx.store), lambda names: self._edit_rule(rule, names), self.state.setText,
               context=self)

    def _edit_rule(self, rule: dict, names: dict[int, str]) -> None:
        dialog = RuleDialog(names, self, rule=rule)
        if dialog.exec():
            values = {k: v for k, v in dialog.values().items() if k not in ("kind", "path")}
            values.update(hours=dialog.hours.text().strip(), weekdays=dialog.days.text().strip())  # "" clears them
            run_command(self, "Edit alert rule", lambda: alerts.change_rule(self.ctx, rule["id"], **values),
                        lambda _: None, changes=RULES)

    def switch_rule(self) -> None:
        rule = self._chosen_rule()
        if rule is not None:
            run_command(self, "Alert rule", lambda: alerts.change_rule(self.ctx, rule["id"], enabled=not rule["enabled"]),
                        lambda _: None, changes=RULES)

    def delete_rule(self) -> None:
        rule = self._chosen_rule()
        if rule is None:
            return
        confirm_then(self, "Delete alert rule", f"Delete the rule {' '.join(_rule_cells(rule)[:3])}? Its open alerts are "
                     "closed; the rule is kept in the audit trail.", lambda: alerts.delete_rule(self.ctx, rule["id"]),
                     lambda _: None, changes=RULES)


class RuleDialog(QDialog):
    def __init__(self, interfaces: dict[int, str], parent=None, *, rule: dict | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Edit the alert rule" if rule else "Add an alert rule")
        self.kind = QComboBox()
        for kind, unit in alerts.KINDS.items():
            self.kind.addItem(f"{kind.replace('_', ' ')} ({unit})", kind)
        self.threshold = QDoubleSpinBox(minimum=0, maximum=1e6, value=30, decimals=1)
        self.interface = QComboBox()
        self.interface.addItem("Every interface", None)
        for interface_id, name in interfaces.items():
            self.interface.addItem(name, interface_id)
        self.window = QSpinBox(minimum=1, maximum=24 * 60, value=15, suffix=" min")
        self.hours = QLineEdit(placeholderText="07:00-19:00 (silence rules; local time)")
        self.days = QLineEdit(placeholderText="12345 = Monday to Friday")
        self.path = QLineEdit(placeholderText="OBX[*]-3.1, PV1-3 (field drift)")
        self.kind.currentIndexChanged.connect(lambda: self.path.setEnabled(self.kind.currentData() == "field_drift"))
        self.path.setEnabled(False)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        for label, w in (("Rule", self.kind), ("Limit", self.threshold), ("Interface", self.interface),
                         ("Looking back", self.window), ("Business hours", self.hours), ("Weekdays", self.days),
                         ("Field", self.path)):
            form.addRow(label, w)
        form.addRow(buttons)
        if rule:  # editing: what it is now; its kind stays (a new kind is a new rule)
            self.kind.setCurrentIndex(self.kind.findData(rule["kind"]))
            self.kind.setEnabled(False)
            self.threshold.setValue(rule["threshold"])
            self.interface.setCurrentIndex(max(self.interface.findData(rule["interface_id"]), 0))
            self.window.setValue(rule["window_min"])
            self.hours.setText(rule["hours"] or "")
            self.days.setText(rule["weekdays"] or "")
            self.path.setText(rule.get("path") or "")
            self.path.setEnabled(False)  # a new field is a new rule

    def values(self) -> dict:
        return {"kind": self.kind.currentData(), "threshold": self.threshold.value(), "interface_id": self.interface.currentData(),
                "window_min": self.window.value(), "hours": self.hours.text().strip() or None,
                "weekdays": self.days.text().strip() or None, "path": self.path.text().strip() or None}
