"""Settings → Engines…: the interface engines Lanewatch reads (Mirth Connect, Open
Integration Engine, BridgeLink), added, changed, polled now or removed. Saving signs in to
the engine first, so a wrong password or an untrusted certificate is said before anything is
kept; the password goes to the OS keyring, never to the store."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from core.commands.context import Context
from core.commands.engines import ConfigureEngine, PollEngines, RemoveEngine
from core.store import engines
from ui.actions import confirm_then, run_command
from ui.dialogs.rows import with_button
from ui.workers import submit

PROBLEM_STYLE = "color: #b00020;"


class EngineDialog(QDialog):
    """One engine's settings; `problem` (a refusal) is shown above the fields it concerns."""

    def __init__(self, current: dict | None, parent=None, *, typed: dict | None = None, problem: str | None = None) -> None:
        super().__init__(parent)
        c = {**(current or {}), **(typed or {})}
        self.setWindowTitle(f"Engine: {c['name']}" if current else "Add an interface engine")
        self.name = QLineEdit(c.get("name") or "", placeholderText="e.g. Mirth production")
        self.name.setReadOnly(current is not None)
        self.url = QLineEdit(c.get("url") or "", placeholderText="https://mirth.practice.local:8443")
        self.url.setMinimumWidth(420)
        self.user = QLineEdit(c.get("username") or "", placeholderText="an API user with read access to messages")
        self.password = QLineEdit(echoMode=QLineEdit.EchoMode.Password,
                                  placeholderText="kept in the OS keyring" if current else "the API user's password")
        self.ca_file = QLineEdit(c.get("ca_file") or "", placeholderText="the system's certificates")
        ca_row = with_button(self.ca_file, "Browse…", self._browse)
        self.writes = QCheckBox("Allow reprocessing messages through this engine (a write: confirmed and audited)")
        self.writes.setChecked(bool(c.get("write_enabled")))
        self.rate = QDoubleSpinBox(minimum=0, maximum=100, decimals=1, value=float(c.get("rate") or 10.0), suffix=" calls/s")
        self.concurrency = QSpinBox(minimum=1, maximum=8, value=int(c.get("concurrency") or 2), suffix=" channels at once")
        self.page_size = QSpinBox(minimum=1, maximum=1000, value=int(c.get("page_size") or 50), suffix=" messages a call")
        self.problem = QLabel(problem or "", wordWrap=True, styleSheet=PROBLEM_STYLE)
        self.problem.setVisible(bool(problem))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow(QLabel("Lanewatch reads the engine's message store through its REST API, without changing the "
                           "engine's configuration.\nSaving signs in to try the settings; the change is recorded in the "
                           "audit trail.", wordWrap=True))
        form.addRow(self.problem)
        for label, w in (("Name", self.name), ("URL", self.url), ("API user", self.user), ("Password", self.password),
                         ("CA certificate", ca_row), ("", self.writes), ("Pace", self.rate),
                         ("Concurrency", self.concurrency), ("Page size", self.page_size)):
            form.addRow(label, w)
        form.addRow(buttons)
        self._new = current is None

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "The engine's CA certificate", "", "PEM files (*.pem *.crt *.cer);;All files (*)")
        if path:
            self.ca_file.setText(path)

    def _accept(self) -> None:
        missing = [what for what, w in (("a name", self.name), ("a URL", self.url), ("an API user", self.user)) if not w.text().strip()]
        if self._new and not self.password.text():
            missing.append("the password")
        if missing:
            self.problem.setText(f"An engine needs {', '.join(missing)}.")
            self.problem.show()
            return
        self.accept()

    def values(self) -> tuple[str, str | None, dict]:
        """(name, the password if one was typed, the settings)."""
        return self.name.text().strip(), self.password.text() or None, {
            "url": self.url.text().strip(), "username": self.user.text().strip(), "ca_file": self.ca_file.text().strip(),
            "write_enabled": self.writes.isChecked(), "rate": self.rate.value(), "concurrency": self.concurrency.value(),
            "page_size": self.page_size.value()}


COLUMNS = ("Name", "URL", "Version", "Writes", "Channels", "Last poll")


class EnginesDialog(QDialog):
    def __init__(self, ctx: Context, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("Interface engines")
        self.resize(900, 380)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)
        self.table.doubleClicked.connect(lambda _: self.edit())
        self.state = QLabel(wordWrap=True)
        row = QHBoxLayout()
        for text, slot in (("Add…", self.add), ("Change…", self.edit), ("Poll now", self.poll), ("Remove…", self.remove)):
            button = QPushButton(text)
            button.clicked.connect(slot)
            row.addWidget(button)
        row.addStretch(1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Mirth Connect, Open Integration Engine and BridgeLink, read through their REST API. Each "
                                "channel shows on the Board as an interface; its errors, queued and filtered messages go "
                                "to the Queue with the engine's own words.", wordWrap=True))
        layout.addWidget(self.table, 1)
        layout.addWidget(self.state)
        layout.addLayout(row)
        layout.addWidget(close)
        self.rows: list[dict] = []
        self.load()

    def load(self) -> None:
        submit(lambda: (engines.every(self.ctx.store), engines.channels(self.ctx.store)), self._show,
               lambda text: self.state.setText(f"Could not read the engines: {text}"), context=self)

    def _show(self, found) -> None:
        self.rows, channels = found
        self.table.setRowCount(len(self.rows))
        for i, e in enumerate(self.rows):
            n = sum(c["engine_id"] == e["id"] for c in channels)
            last = (f"{e['checked_at']:%Y-%m-%d %H:%M} UTC" if e["checked_at"] else "never") + (
                f": {e['problem']}" if e["problem"] else "")
            for col, text in enumerate((e["name"], e["url"], e["version"] or "?", "on" if e["write_enabled"] else "off",
                                        str(n), last)):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                if col == 5 and e["problem"]:
                    item.setForeground(Qt.GlobalColor.red)
                self.table.setItem(i, col, item)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)
        self.state.setText("" if self.rows else "No engine yet: Add… one with its URL and an API user.")

    def _chosen(self) -> dict | None:
        i = self.table.currentRow()
        return self.rows[i] if 0 <= i < len(self.rows) else None

    def add(self, typed: dict | None = None, problem: str | None = None) -> None:
        self._configure(None, typed, problem)

    def edit(self, typed: dict | None = None, problem: str | None = None) -> None:
        if (e := self._chosen()) is not None:
            self._configure(e, typed, problem)

    def _configure(self, current: dict | None, typed: dict | None, problem: str | None) -> None:
        dialog = EngineDialog(current, self, typed=typed, problem=problem)
        if not dialog.exec():
            return
        name, password, settings = dialog.values()
        again = {"name": name, **settings}
        run_command(self, "Engine", lambda: ConfigureEngine(self.ctx).run(name, password=password, **settings),
                    lambda e: (self.state.setText(f"{name}: saved (version {e.get('version') or '?'})."), self.load()),
                    on_refused=lambda why: self._configure(current, again, why), changes=ConfigureEngine.changes)

    def poll(self) -> None:
        if (e := self._chosen()) is None:
            return
        self.state.setText(f"Polling {e['name']}…")

        def done(results) -> None:
            r = results[0] if results else None
            if r is not None:
                self.state.setText(f"{r.engine}: {r.stored:,} contents stored from {len(r.channels)} channels, "
                                   f"{r.queued:,} queue items raised" + (f"; problem: {r.problem}" if r.problem else ""))
            self.load()

        run_command(self, "Poll", lambda: PollEngines(self.ctx).run([e["name"]]), done, changes=PollEngines.changes)

    def remove(self) -> None:
        if (e := self._chosen()) is None:
            return
        confirm_then(self, "Remove engine", f"Remove {e['name']} and its password? What was read from it stays in the store.",
                     lambda: RemoveEngine(self.ctx).run(e["name"]), lambda _: self.load(), changes=RemoveEngine.changes)
