"""Comparing messages field by field (issue 19), as an interface analyst reads them.

Two messages: segments are aligned by name in order (a segment one side lacks does not shift
every one after it), then each field is compared, and a field that differs is broken down to
the repetitions, components and subcomponents that differ. Paths are written as queries
write them (`OBX[2]-5.1`, `PID-3[2].4`), so a difference found here can be searched for.

Two sets: messages keyed by a field path (ORC-2 of our outbound orders against the lab's
inbound log), paired in time order within a key: matched, only on the left, only on the
right, and matched but different, with how often each field path differed.
"""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from core.hl7.query import ANY, FieldPath, Message
from core.hl7.structure import delimiters_of, is_segment


@dataclass(frozen=True)
class FieldRow:
    """One field or part of one, side by side. `left`/`right` is None where that side has no
    such segment; `segment`/`number` say which field, for masking by."""
    path: str
    segment: str
    number: int
    left: str | None
    right: str | None
    same: bool = True


def _segments(text: str) -> tuple[list[tuple[str, list[str]]], object]:
    d = delimiters_of(text)
    out = []
    for line in re.split(r"\r\n|\r|\n", text):
        if is_segment(line, d.field):
            parts = line.split(d.field)
            if line[:3] == "MSH":  # MSH-1 is the separator itself: number its fields as the standard does
                parts = ["MSH", d.field, *parts[1:]]
            out.append((line[:3], parts))
    return out, d


def compare(left: str, right: str, ignore: Iterable[str] = ()) -> list[FieldRow]:
    """Every field of either message, side by side, in segment order; a field that differs is
    given as the parts that differ. `ignore`: field paths left out (MSH-7, MSH-10)."""
    a, da = _segments(left)
    b, db = _segments(right)
    skipped = {(p.segment, p.field) for p in map(FieldPath.parse, ignore)}
    occurrences: Counter[str] = Counter()
    repeats = Counter(n for n, _ in a) | Counter(n for n, _ in b)
    rows: list[FieldRow] = []

    def label(name: str) -> str:
        occurrences[name] += 1
        return f"{name}[{occurrences[name]}]" if repeats[name] > 1 else name

    matcher = SequenceMatcher(None, [n for n, _ in a], [n for n, _ in b], autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            pairs = list(zip(a[i1:i2], b[j1:j2]))
        else:
            pairs = [(s, None) for s in a[i1:i2]] + [(None, s) for s in b[j1:j2]]
        for sa, sb in pairs:
            name = (sa or sb)[0]
            seg = label(name)
            fa, fb = (sa[1] if sa else None), (sb[1] if sb else None)
            for n in range(1, max(len(fa or ()), len(fb or ()))):
                if (name, n) in skipped:
                    continue
                va = (fa[n] if n < len(fa) else "") if fa is not None else None
                vb = (fb[n] if n < len(fb) else "") if fb is not None else None
                if not va and not vb:
                    continue
                path = f"{seg}-{n}"
                if va is None or vb is None or va == vb or (name == "MSH" and n <= 2):
                    rows.append(FieldRow(path, name, n, va, vb, va == vb))
                else:  # the parts that differ; none when only the repetitions' order does
                    rows.extend(_parts(path, name, n, va, vb, da, db) or [FieldRow(path, name, n, va, vb)])
    return rows


def _parts(path: str, name: str, n: int, va: str, vb: str, da, db) -> list[FieldRow]:
    """The repetitions, components and subcomponents of a field that differ. Repetitions are
    matched first by being equal (the same identifiers in another order differ in nothing),
    the rest in order."""
    out = []
    ra, rb = va.split(da.rep), vb.split(db.rep)
    unmatched = list(range(len(rb)))
    pairs: list[tuple[int, int | None]] = []
    for i, x in enumerate(ra):
        j = next((j for j in unmatched if x and rb[j] == x), None)
        if j is not None:
            unmatched.remove(j)
        pairs.append((i, j))
    pairs = [(i, j if j is not None else (unmatched.pop(0) if unmatched else None)) for i, j in pairs]
    pairs += [(None, j) for j in unmatched]
    many = max(len(ra), len(rb)) > 1
    for i, j in pairs:
        x, y = (ra[i] if i is not None else ""), (rb[j] if j is not None else "")
        if x == y:
            continue
        rep = f"{path}[{(i if i is not None else j) + 1}]" if many else path
        ca, cb = x.split(da.comp), y.split(db.comp)
        if max(len(ca), len(cb)) == 1 or not x or not y:  # a repetition one side lacks: whole
            out.append(FieldRow(rep, name, n, x, y, False))
            continue
        for c in range(max(len(ca), len(cb))):
            p, q = (ca[c] if c < len(ca) else ""), (cb[c] if c < len(cb) else "")
            if p != q:
                out.append(FieldRow(f"{rep}.{c + 1}", name, n, p, q, False))
    return out


def differences(left: str, right: str, ignore: Iterable[str] = ()) -> list[FieldRow]:
    return [r for r in compare(left, right, ignore) if not r.same]


@dataclass
class SetComparison:
    key: str
    matched: int = 0
    different: int = 0
    only_left: list[tuple[str, int]] = field(default_factory=list)  # (key, message id)
    only_right: list[tuple[str, int]] = field(default_factory=list)
    no_key: list[int] = field(default_factory=list)  # messages of either side without the key
    fields: Counter[str] = field(default_factory=Counter)  # field path (no positions): pairs it differed in
    pairs: list[dict] = field(default_factory=list)  # each pair that differs: key, ids, the paths that differ

    def summary(self) -> dict:
        return {"key": self.key, "matched": self.matched, "matched_but_different": self.different,
                "only_left": len(self.only_left), "only_right": len(self.only_right), "without_key": len(self.no_key),
                "fields": dict(self.fields.most_common())}


def compare_sets(left: Iterable[tuple[int, str]], right: Iterable[tuple[int, str]], key: str,
                 ignore: Iterable[str] = ()) -> SetComparison:
    """Two sets of (message id, text), oldest first, paired by the key path's first value."""
    path = FieldPath.parse(key)
    if path.occurrence == ANY or path.repetition == ANY:
        path = FieldPath(path.segment, 1 if path.occurrence == ANY else path.occurrence, path.field,
                         1 if path.repetition == ANY else path.repetition, path.component, path.subcomponent)
    ignore = list(ignore)
    out = SetComparison(key)
    waiting: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for mid, text in left:
        k = path.values(Message(text))[0]
        if k:
            waiting[k].append((mid, text))
        else:
            out.no_key.append(mid)
    for mid, text in right:
        k = path.values(Message(text))[0]
        if not k:
            out.no_key.append(mid)
        elif waiting.get(k):
            lid, ltext = waiting[k].pop(0)
            out.matched += 1
            found = differences(ltext, text, ignore)
            if found:
                out.different += 1
                paths = sorted({_general(r.path) for r in found})
                out.fields.update(paths)
                out.pairs.append({"key": k, "left": lid, "right": mid, "fields": paths})
        else:
            out.only_right.append((k, mid))
    out.only_left = sorted(((k, mid) for k, items in waiting.items() for mid, _ in items), key=lambda x: x[1])
    return out


def _general(path: str) -> str:
    """A path without its positions, so differences count by field: OBX[3]-5.1 → OBX-5.1."""
    return re.sub(r"\[\d+\]", "", path)
