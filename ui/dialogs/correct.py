"""Correct a message (or every message of a group): edits by field path or the raw text,
previewed as a side-by-side diff with what validation still finds, then saved as new versions.

Under the privacy screen the preview and every text are masked, and the raw text cannot be
shown or edited (it is the whole message): the dialog says so, and field edits still work."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPlainTextEdit, QPushButton, QSplitter, QTabWidget, QVBoxLayout

from core import privacy
from core.changes import NOTHING
from core.commands.context import CommandError, Context
from core.commands.correct import Correct, Preview, failures
from core.hl7 import edit
from ui.actions import run_command
from ui.privacy_screen import screen
from ui.views.diff_view import DiffView

EDIT_HELP = ("One edit a line, PATH = VALUE, for example\n"
             "PID-3.1 = MRN104242\nPID-3[2].1 = 55512\nOBR-4.2 = Glucose, fasting")


def parse_edits(text: str) -> list[tuple[str, str]]:
    """"PID-3.1 = value" lines as (path, value); blank lines and # comments skipped."""
    edits = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        path, sep, value = line.partition("=")
        if not sep:
            raise CommandError(f"Line {n} needs PATH = VALUE: {line.strip()!r}")
        edits.append((path.strip(), value.strip()))
    return edits


class CorrectionDialog(QDialog):
    """For one message, or (bulk) the same path edits on every message given."""

    def __init__(self, ctx: Context, message_ids: list[int], parent=None, first_shown: int = 3) -> None:
        super().__init__(parent)
        self.ctx, self.message_ids, self.first_shown = ctx, message_ids, first_shown
        self.bulk = len(message_ids) > 1
        self.command = Correct(ctx)
        self.previews: list[Preview] = []
        self.original: Preview | None = None
        self.failures: list[tuple[str, str | None]] = []  # (the receiver's words, the field its ERR points at)
        self.saved: list[int] = []
        self.setWindowTitle(f"Correct {len(message_ids)} messages" if self.bulk else f"Correct message {message_ids[0]}")
        self.resize(1200, 720)

        self.edits = QPlainTextEdit(placeholderText=EDIT_HELP)
        self.raw = QPlainTextEdit()
        self.raw.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.input = QTabWidget()
        self.input.addTab(self.edits, "Edit fields")
        if not self.bulk:
            self.input.addTab(self.raw, "Edit raw text")
        self.diff = DiffView()
        self.findings = QLabel(wordWrap=True)
        self.status = QLabel(wordWrap=True)
        self.failed = QLabel(wordWrap=True, objectName="failed")
        self.failed.hide()
        self.masked_note = QLabel("The privacy screen is on: the message is shown masked, and its raw text can be neither "
                                  "shown nor edited here. Field edits work; turn the screen off (Ctrl+Shift+P) to edit "
                                  "the raw text.", wordWrap=True)
        preview = QPushButton("Preview")
        preview.clicked.connect(self.preview)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setText(f"Save {len(message_ids)} corrections" if self.bulk else "Save as a new version")
        self.save_button.setEnabled(False)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        self.buttons.addButton(preview, QDialogButtonBox.ButtonRole.ActionRole)

        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.input)
        split.addWidget(self.diff)
        split.setSizes([200, 480])
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("The original is never changed: a correction is saved as a new version linked to it."
                                + (f" The same edits go to all {len(message_ids)} messages; the first "
                                   f"{min(first_shown, len(message_ids))} are shown." if self.bulk else "")))
        layout.addWidget(self.failed)
        layout.addWidget(self.masked_note)
        layout.addWidget(split, 1)
        layout.addWidget(self.findings)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self.edits.textChanged.connect(lambda: self.save_button.setEnabled(False))
        self.raw.textChanged.connect(lambda: self.save_button.setEnabled(False))
        screen().changed.connect(self._privacy_changed)
        self._privacy_changed(screen().on)
        if not self.bulk:
            run_command(self, "Correct", lambda: (self.command.preview(message_ids[0], structural=False),
                                                  failures(ctx, message_ids[0])), self._original, changes=NOTHING)

    @property
    def masked(self) -> bool:
        return screen().on

    def _privacy_changed(self, on: bool) -> None:
        self.masked_note.setVisible(on)
        if not self.bulk:
            if on and self.input.currentWidget() is self.raw:
                self.input.setCurrentWidget(self.edits)
            self.input.setTabEnabled(self.input.indexOf(self.raw), not on)
            self.raw.setVisible(not on)
        self._fill_raw()
        self._show_failures()
        if self.previews:
            self._previewed(self.previews)
        elif self.original:
            self.diff.show_versions(self.original.before, self.original.before, "Original", "Corrected", masked=on)

    def _fill_raw(self) -> None:
        """The raw text holds the whole message: it is filled only while the screen is off
        (and what the person typed there is kept)."""
        if self.original and not self.masked and not self.raw.toPlainText():
            self.raw.blockSignals(True)
            self.raw.setPlainText(self.original.before.replace("\r\n", "\n").replace("\r", "\n"))
            self.raw.blockSignals(False)

    def _original(self, found: tuple[Preview, list] | None) -> None:
        if not found:
            return
        preview, self.failures = found
        self.original = preview
        self._fill_raw()
        self.diff.show_versions(preview.before, preview.before, "Original", "Corrected", masked=self.masked)
        self._show_failures()
        pointed = next((p for _, p in self.failures if p), None)
        if pointed and not self.edits.toPlainText():  # start where the receiver pointed, with what is there now
            try:
                now = edit.get_value(preview.before, pointed) or ""
            except edit.EditError:
                return
            self.edits.blockSignals(True)
            self.edits.setPlainText(f"{pointed} = {'' if self.masked else now}")
            self.edits.blockSignals(False)
            self.diff.point_at(pointed)

    def _show_failures(self) -> None:
        """What failed: the receiver's words and where its ERR points (masked under the screen)."""
        lines = [f"• {reason}" + (f" (the receiver points at {path})" if path else "") if reason else
                 f"• the receiver points at {path}" for reason, path in self.failures]
        if lines:
            self._say(self.failed, "What failed:\n" + "\n".join(lines))
        self.failed.setVisible(bool(lines))

    def _say(self, label: QLabel, text: str) -> None:
        """Words about the message(s) on screen: their identifiers masked while the screen is on."""
        shown = [p.before for p in self.previews] + [p.after for p in self.previews] + \
            ([self.original.before] if self.original else [])
        label.setText(privacy.mask_words(text, *shown) if self.masked else text)

    # -- preview and save ---------------------------------------------------------------
    def _ask(self):
        if self.input.currentWidget() is self.raw:
            text = self.raw.toPlainText().replace("\n", "\r")
            return lambda: [self.command.preview(self.message_ids[0], raw_text=text)]
        edits = parse_edits(self.edits.toPlainText())
        if self.bulk:
            return lambda: self.command.bulk_preview(self.message_ids, edits, self.first_shown)
        return lambda: [self.command.preview(self.message_ids[0], edits)]

    def preview(self) -> None:
        try:
            ask = self._ask()
        except CommandError as exc:
            self._say(self.status, str(exc))
            return
        self.status.setText("Checking…")
        run_command(self, "Preview", ask, self._previewed, changes=NOTHING)

    def _previewed(self, previews: list[Preview] | None) -> None:
        self.previews = previews or []
        if not self.previews:
            self.status.setText("")
            return
        first = self.previews[0]
        self.diff.show_versions(first.before, first.after, f"Message {first.message_id} as it is",
                                f"Corrected (version of {first.message_id})", masked=self.masked)
        findings = sorted({f.text for p in self.previews for f in p.findings})
        self._say(self.findings, ("Validation still finds:\n• " + "\n• ".join(findings[:12])) if findings
                  else "Validation finds nothing wrong with the corrected message.")
        changed = sum(p.changed for p in self.previews)
        self.status.setText(f"{changed} of {len(self.previews)} previewed messages change."
                            + (" Other messages of the group are shown the same way when saved." if self.bulk else ""))
        self.save_button.setEnabled(changed == len(self.previews))

    def save(self) -> None:
        if self.bulk:
            edits = parse_edits(self.edits.toPlainText())
            run_command(self, "Save", lambda: self.command.bulk_apply(self.message_ids, edits), self._saved,
                        changes=Correct.changes)
        else:
            preview = self.previews[0]
            run_command(self, "Save", lambda: [self.command.save(preview)], self._saved, changes=Correct.changes)

    def _saved(self, ids: list[int] | None) -> None:
        if ids:
            self.saved = ids
            self.accept()
