"""One message, explained: a summary, MSA/ERR in words, the linked ACK or original, the field
tree and the raw text (one segment a line, delimiters highlighted)."""
from __future__ import annotations

import base64
import binascii
import html
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontDatabase, QGuiApplication, QSyntaxHighlighter, QTextCharFormat
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QToolButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from core import labels, privacy
from core.commands.context import Context
from core.commands.detail import Detail, OpenDetail
from core.hl7.structure import LONG_VALUE, Node, delimiters_of
from core.vocabulary import ParseState
from ui import icons
from ui.models.field_tree import COL_LABEL, COL_NAME, COL_TYPE, NODE_ROLE, FieldTreeModel
from ui.settings import in_documents
from ui.workers import Generation, submit

RAW_LINE = 400  # characters of a segment shown in the raw view before it is shortened


class DelimiterHighlighter(QSyntaxHighlighter):
    """Segment names bold; field, component, repetition, escape and subcomponent marks coloured."""

    def __init__(self, document, dark: bool) -> None:
        super().__init__(document)
        self.delimiters = "|^~\\&"
        self.hl7 = True  # content that is not HL7 v2 (mail, a document, an engine's XML) is shown plain
        self.segment, self.marks = QTextCharFormat(), QTextCharFormat()
        self.set_dark(dark)

    def set_dark(self, dark: bool) -> None:
        self.segment.setFontWeight(QFont.Weight.Bold)
        self.segment.setForeground(QColor("#64b5f6" if dark else "#0d47a1"))
        self.marks.setForeground(QColor("#ffb74d" if dark else "#bf360c"))
        self.marks.setFontWeight(QFont.Weight.Bold)
        self.rehighlight()

    def highlightBlock(self, text: str) -> None:
        if not self.hl7:
            return
        if len(text) >= 3:
            self.setFormat(0, 3, self.segment)
        for i, ch in enumerate(text[3:], start=3):
            if ch in self.delimiters:
                self.setFormat(i, 1, self.marks)


def carried(d: dict) -> str:
    """A document in one line, with nothing about the patient."""
    missing = f"; lacks {'; '.join(d['missing'])}" if d["missing"] else ""
    where = f", {d['part']}" if d["part"] else ""
    return (f"Carries a {d['type_name']} (document {d['id']}{where}): {len(d['sections'])} sections, schema "
            f"{d['xsd_state'].replace('_', ' ')}{missing}. Raw shows it as a person reads it.")


def rendering(d: dict) -> str:
    """A document as a person reads it: its header, then each section's narrative."""
    when = f"{d['effective_time']:%Y-%m-%d %H:%M}" if d["effective_time"] else "no effective time"
    lines = [f"═══ {d['type_name']}: {d['title'] or '(no title)'} (document {d['id']}) ═══",
             f"Patient: {d['patient_name'] or '?'} ({d['patient_id'] or 'no id'}) · Author: {d['author'] or '?'} · "
             f"Custodian: {d['custodian'] or '?'} · {when}",
             f"Schema: {d['xsd_state'].replace('_', ' ')}" + (f" · Missing: {'; '.join(d['missing'])}" if d["missing"] else "")]
    for title, state, text in d["rendering"]:
        lines.append(f"── {title} ({state.replace('_', ' ')}) ──")
        lines += [f"  {line}" for line in text.splitlines()[:200]]
    return "\n".join(lines)


class DetailPane(QWidget):
    open_message = Signal(int)  # a linked message was asked for
    notice = Signal(str)  # something to say in the status bar
    compare_versions = Signal(int)  # the person asked to compare this message's versions
    trace_chain = Signal(int)  # the person asked for the order or visit this message belongs to

    def __init__(self, dark: bool = False, parent=None) -> None:
        super().__init__(parent)
        self._generation = Generation()
        self.detail: Detail | None = None
        self.privacy = False
        self.summary = QLabel("Choose a message to see it here.", wordWrap=True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.explanation = QLabel(wordWrap=True)
        self.explanation.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.explanation.setObjectName("explanation")
        self.links = QHBoxLayout()
        self.links.setContentsMargins(0, 0, 0, 0)

        self.tree_model = FieldTreeModel(self)
        self.tree = QTreeView(uniformRowHeights=True, alternatingRowColors=True)
        self.tree.setModel(self.tree_model)
        self.tree.header().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.tree.header().setStretchLastSection(True)
        self.tree.selectionModel().currentChanged.connect(lambda *_: self._node_changed())
        self.raw = QPlainTextEdit(readOnly=True)
        self.raw.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.raw.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.highlighter = DelimiterHighlighter(self.raw.document(), dark)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.tree, "Fields")
        self.tabs.addTab(self.raw, "Raw")

        self.copy_raw = QPushButton(icons.action("copy"), "Copy raw")
        self.copy_raw.setToolTip("Copy the message as it arrived (masked while the privacy screen is on)")
        self.copy_raw.clicked.connect(self.copy_raw_text)
        self.copy_field = QPushButton(icons.action("copy"), "Copy field")
        self.copy_field.clicked.connect(self.copy_field_value)
        self.save_value = QPushButton(icons.action("save"), "Save value…")
        self.save_value.setToolTip("Save the chosen field whole (a Base64 document is saved decoded)")
        self.save_value.clicked.connect(self.save_field_value)
        self.compare = QPushButton(icons.action("link"), "Versions…")
        self.compare.setToolTip("Compare any two versions of this message: as it arrived, and its corrections")
        self.compare.clicked.connect(lambda: self.detail and self.compare_versions.emit(self.detail.row["id"]))
        self.trace = QPushButton(icons.action("link"), "Trace…")
        self.trace.setToolTip("The order (order, ACK, results) or visit (ADT) this message belongs to, on a timeline")
        self.trace.clicked.connect(lambda: self.detail and self.trace_chain.emit(self.detail.row["id"]))
        buttons = QHBoxLayout()
        for b in (self.copy_raw, self.copy_field, self.save_value, self.compare, self.trace):
            buttons.addWidget(b)
        buttons.addStretch(1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.summary)
        layout.addWidget(self.explanation)
        layout.addLayout(self.links)
        layout.addWidget(self.tabs, 1)
        layout.addLayout(buttons)
        self.show_detail(None)

    # -- showing -------------------------------------------------------------------------
    def load(self, ctx: Context, message_id: int) -> None:
        """Open a message here: read off the GUI thread (OpenDetail records the PHI view); when
        the person has moved on to another message meanwhile, the older one is dropped."""
        token = self._generation.next()
        submit(lambda: OpenDetail(ctx).run(message_id), lambda d: self._generation.current(token) and self.show_detail(d),
               lambda err: self.notice.emit(f"Could not show message {message_id}: {err}"), context=self)

    def show_detail(self, detail: Detail | None) -> None:
        self.detail = detail
        self.tree_model.set_tree(detail.tree if detail else None)
        self._fill()
        if detail:
            for col, width in ((COL_LABEL, 280 if detail.exchange else 150), (COL_NAME, 230), (COL_TYPE, 72)):
                self.tree.setColumnWidth(col, width)
            self.tree.expandToDepth(0)
        for b in (self.copy_raw, self.copy_field, self.save_value, self.trace):
            b.setEnabled(detail is not None)
        self.compare.setEnabled(bool(detail and (detail.row["parent_id"] or detail.has_corrections)))
        self._node_changed()

    def set_privacy(self, on: bool) -> None:
        self.privacy = on
        self.tree_model.set_privacy(on)
        if self.detail:
            self.tree.expandToDepth(0)
        self._fill()

    def _fill(self) -> None:
        d = self.detail
        while self.links.count():
            item = self.links.takeAt(0)
            if item.widget():  # hidden now: deleted only later, it would linger over the new links until then
                item.widget().hide()
                item.widget().deleteLater()
        if d is None:
            self.summary.setText("Choose a message to see it here.")
            self.explanation.clear()
            self.explanation.hide()
            self.raw.clear()
            return
        r = d.row
        named = labels.patient(r) or next((doc["patient_name"] for doc in d.documents if doc["patient_name"]), None)
        patient = privacy.mask(named, self.privacy) or "no patient"
        when = r["message_time"].strftime("%Y-%m-%d %H:%M:%S UTC") if r["message_time"] else (
            "no Date" if d.mail else "no MSH-7")
        kind = "Direct mail" if d.mail else "CDA document" if d.documents and r["parse_state"] == ParseState.TEXT else (
            "FHIR exchange" if d.exchange else f"HL7 {r['version'] or '?'}")
        key = "Message-ID" if d.mail else "resource id" if d.exchange else "control ID"
        self.summary.setText(
            f"<b>{html.escape(r['message_type'] or 'Unknown type')}</b> · {key} "
            f"<b>{html.escape(r['control_id'] or '—')}</b> · {kind} · {when}<br>"
            f"{self._ends(r)} · {patient}<br>"
            f"<span style='color:gray'>Parse: {labels.parse(r)} · message {r['id']} · "
            f"{self._where(r)}{r['size']:,} bytes as {d.codec}"
            f"{' · ' + d.tree.note if d.tree.note and not d.mail else ''}</span>" + self._engine_line())
        words = "\n".join(d.explanation + [carried(doc) for doc in d.documents])  # a receiver's words can quote the patient
        if self.privacy:
            words = privacy.mask_known(privacy.mask_words(words, d.text), [r["patient_id"], r["patient_name"]])
        self.explanation.setText(words)
        self.explanation.setVisible(bool(d.explanation))
        for message_id, what in d.links:
            link = QToolButton(text=f"Open {what} (message {message_id})", icon=icons.action("link"))
            link.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            link.clicked.connect(lambda _=False, m=message_id: self.open_message.emit(m))
            self.links.addWidget(link)
        self.links.addStretch(1)
        self.highlighter.hl7 = r["parse_state"] != ParseState.TEXT
        self.raw.setPlainText(self._raw_lines())
        self.highlighter.delimiters = "".join(self._delimiters())

    def _ends(self, r: dict) -> str:
        """Who sent it to whom: HL7's app^facility, or a mail's addresses."""
        if r["parse_state"] == ParseState.TEXT:  # a mail's addresses, a document's custodian, an engine's ends
            return f"{r['sending_app'] or '?'} → {r['receiving_app'] or '?'}"
        return (f"{r['sending_app'] or '?'}^{r['sending_facility'] or ''} → {r['receiving_app'] or '?'}^"
                f"{r['receiving_facility'] or ''}")

    def _where(self, r: dict) -> str:
        """Where in its source the message lies: a file and byte; an engine's content says so in its own line."""
        return "" if self.detail.engine else f"{Path(r['source']).name} @ byte {r['offset']:,} · "

    def _engine_line(self) -> str:
        """Where the engine holds it, to find it there (channel and message id, as its API names them)."""
        e = self.detail.engine if self.detail else None
        if not e:
            return ""
        status = f" · {e['status']}" if e["status"] else ""
        kind = f" · {e['data_type']}" if e["data_type"] else ""
        return (f"<br>Engine <b>{html.escape(e['engine'])}</b> · channel {html.escape(e['channel_name'])} · message "
                f"{e['engine_message_id']} · {html.escape(e['connector'] or '')} ({e['role']}){status}{kind}<br>"
                f"<span style='color:gray'>In the engine: {html.escape(self.detail.engine_reference)}</span>")

    def _delimiters(self) -> list[str]:
        dl = delimiters_of(self.detail.text) if self.detail else None
        return [c for c in (dl.field, dl.comp, dl.rep, dl.esc, dl.sub) if c] if dl else []

    def _visible_text(self) -> str:
        """The message as the privacy screen lets it be shown or copied; the documents it carries
        rendered readably first (a document is not HL7 v2: the screen hides it whole)."""
        if self.privacy:
            return privacy.mask_text(self.detail.text)
        shown = [rendering(d) for d in self.detail.documents]
        return "\n\n".join([*shown, "═══ The message as it came ═══\n" + self.detail.text] if shown else [self.detail.text])

    def _raw_lines(self) -> str:
        text = self._visible_text()
        lines = text.replace("\r\n", "\r").replace("\n", "\r").split("\r")
        return "\n".join(line if len(line) <= RAW_LINE else
                         f"{line[:RAW_LINE]}… [{len(line) - RAW_LINE:,} more characters: choose the field and Save value…]"
                         for line in lines)

    # -- actions -------------------------------------------------------------------------
    def selected_node(self) -> Node | None:
        return self.tree.currentIndex().data(NODE_ROLE) if self.tree.currentIndex().isValid() else None

    def _node_changed(self) -> None:
        node = self.selected_node()
        self.copy_field.setEnabled(node is not None and not (self.privacy and node.phi))
        self.save_value.setEnabled(node is not None and len(node.text) > LONG_VALUE and not (self.privacy and node.phi))

    def copy_raw_text(self) -> None:
        if self.detail:
            text = self._visible_text()
            QGuiApplication.clipboard().setText(text.replace("\r\n", "\r").replace("\n", "\r").replace("\r", "\n"))
            self.notice.emit("Message copied" + (" (masked)" if self.privacy else ""))

    def copy_field_value(self) -> None:
        node = self.selected_node()
        if node and not (self.privacy and node.phi):
            QGuiApplication.clipboard().setText(node.text)
            self.notice.emit(f"{node.label} copied")

    def save_field_value(self) -> None:
        node = self.selected_node()
        if node is None or (self.privacy and node.phi):
            return
        data, suffix = value_bytes(node)
        path, _ = QFileDialog.getSaveFileName(self, f"Save {node.label}", in_documents(f"{node.label}{suffix}"))
        if path:
            Path(path).write_bytes(data)
            self.notice.emit(f"{node.label} saved to {path} ({len(data):,} bytes)")


def value_bytes(node: Node) -> tuple[bytes, str]:
    """What Save value writes: an ED field's Base64 document decoded, else the text as UTF-8."""
    parts = node.text.split("^")
    if len(parts) >= 5 and parts[3].lower() == "base64":
        try:
            return base64.b64decode(parts[4], validate=False), ".bin"
        except (binascii.Error, ValueError):
            pass
    if node.datatype in ("ED", "varies") or node.label.startswith("OBX-5"):
        try:
            return base64.b64decode(node.text, validate=True), ".bin"
        except (binascii.Error, ValueError):
            pass
    return node.text.encode("utf-8"), ".txt"
