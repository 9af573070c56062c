from __future__ import annotations

from PySide6.QtCore import QModelIndex

from core.hl7.structure import build
from core.privacy import MASK, PHI_FIELDS
from ui.models.field_tree import COL_LABEL, COL_NAME, COL_VALUE, FieldTreeModel

MESSAGE = ("MSH|^~\\&|ECW|NFM|QUEST|LAB|20260101||ORU^R01|C1|P|2.5.1\r"
           "PID|1||MRN1^^^NFM&1.2&ISO^MR~X2||DOE^JANE\r"
           "OBX|1|ED|PDF^Report||^AP^PDF^Base64^" + "QUJD" * 100)


def test_tree_model(qtmodeltester):
    model = FieldTreeModel()
    model.set_tree(build(MESSAGE, "2.5.1", PHI_FIELDS))
    qtmodeltester.check(model)
    assert model.rowCount() == 3
    pid = model.index(1, 0)
    labels = [model.index(r, COL_LABEL, pid).data() for r in range(model.rowCount(pid))]
    assert labels == ["PID-1", "PID-3[1]", "PID-3[2]", "PID-5"]
    pid3 = model.index(1, 0, pid)
    assert model.index(0, COL_NAME, pid3).data() == "ID Number"
    authority = model.index(1, 0, pid3)  # empty components (PID-3.2, 3.3) are not rows
    assert model.index(1, COL_VALUE, authority).data() == "1.2"
    assert model.parent(authority) == pid3 and model.parent(pid) == QModelIndex()
    obx5 = model.index(3, COL_VALUE, model.index(2, 0))
    assert obx5.data().endswith("(415 characters)")  # long values shortened
    model.set_privacy(True)
    assert model.index(3, COL_VALUE, model.index(1, 0)).data() == MASK
    qtmodeltester.check(model)
    model.set_tree(None)
    assert model.rowCount() == 0
