"""Field-path queries over messages (issue 19): `PID-3[*].4 = 'FEE'`, `OBX[*]-8 in ('H', 'HH')`,
`MSH-9.1 = ORU and not PV1-3 is empty`, `OBR-7 > 20261201`.

Paths are the ones corrections use (PID-3.1, PID-3[2].4, OBX[2]-5), with `*` for "any":
OBX[*]-8 is the abnormal flag of every OBX, PID-3[*].4 the assigning authority of every
identifier. A path without [n] names the first segment or repetition, as in corrections.
Operators: = != ~ (a glob: * and ?), < > <= >= (on times and numbers; otherwise on text),
in (...), is empty, is not empty; combined with and, or, not and parentheses. Text is
compared as the element says it, escapes undone, ignoring case. A comparison holds when any
of the path's values passes it; a missing element is empty.

Evaluation splits the message's text by its own delimiters (no parse tree), so a query runs
at the speed of the scanner. A query that does not parse says what is wrong and where.
"""
from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from dataclasses import dataclass

from core.hl7.scan import Delimiters
from core.hl7.structure import delimiters_of, is_segment


class QueryError(ValueError):
    """A query that does not parse: what is wrong, and at which character (from 1)."""

    def __init__(self, reason: str, position: int) -> None:
        super().__init__(f"{reason} (at character {position + 1})")
        self.reason, self.position = reason, position


_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<path>[A-Za-z][A-Za-z0-9]{2}(?:\[(?:\d+|\*)\])?-\d+(?:\[(?:\d+|\*)\])?(?:\.\d+){0,2})(?![\w.\[])
  | (?P<string>'(?:[^']|'')*'|"(?:[^"]|"")*")
  | (?P<op>!=|<=|>=|=|<|>|~)
  | (?P<punct>[(),])
  | (?P<word>[^\s(),'"=<>!~]+)
  | (?P<bad>.)
""", re.VERBOSE)
_KEYWORDS = {"and", "or", "not", "in", "is", "empty"}
_PATH_PARTS = re.compile(r"^(?P<seg>[A-Z][A-Z0-9]{2})(?:\[(?P<occ>\d+|\*)\])?-(?P<field>\d+)(?:\[(?P<rep>\d+|\*)\])?"
                         r"(?:\.(?P<comp>\d+))?(?:\.(?P<sub>\d+))?$")
ANY = 0  # an occurrence or repetition of "*"


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    at: int


@dataclass(frozen=True)
class FieldPath:
    segment: str
    occurrence: int  # 1-based, or ANY
    field: int
    repetition: int  # 1-based, or ANY
    component: int | None
    subcomponent: int | None

    @classmethod
    def parse(cls, text: str, at: int = 0) -> FieldPath:
        m = _PATH_PARTS.match(text.upper())
        if not m:
            raise QueryError(f"not a field path: {text!r} (PID-3.1, OBX[*]-8, PID-3[*].4)", at)

        def number(group: str) -> int | None:
            value = m[group]
            if value is None:
                return None
            if value == "*":
                return ANY
            if int(value) == 0:
                raise QueryError(f"positions count from 1: {text!r}", at)
            return int(value)

        occ, rep = number("occ"), number("rep")
        return cls(m["seg"], 1 if occ is None else occ, number("field"), 1 if rep is None else rep,
                   number("comp"), number("sub"))

    def values(self, message: Message) -> list[str]:
        """The path's values in a message (unescaped), [""] when it has none."""
        d = message.d
        out = []
        bodies = message.segments(self.segment)
        if self.occurrence != ANY:
            bodies = bodies[self.occurrence - 1:self.occurrence]
        for fields in bodies:
            if self.segment == "MSH" and self.field <= 2:  # the delimiters themselves, never split by them
                out.append(d.field if self.field == 1 else fields[1] if len(fields) > 1 else "")
                continue
            fi = self.field - 1 if self.segment == "MSH" else self.field
            if fi >= len(fields):
                continue
            reps = fields[fi].split(d.rep)
            if self.repetition != ANY:
                reps = reps[self.repetition - 1:self.repetition]
            for rep in reps:
                value = rep
                if self.component is not None:
                    comps = value.split(d.comp)
                    value = comps[self.component - 1] if self.component <= len(comps) else ""
                    if self.subcomponent is not None:
                        subs = value.split(d.sub)
                        value = subs[self.subcomponent - 1] if self.subcomponent <= len(subs) else ""
                out.append(d.text(value) if d.esc and d.esc in value else value)
        return out or [""]


class Message:
    """A message's segments, each split into fields once and only when a path asks for it."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.d: Delimiters = delimiters_of(text)
        self._lines: dict[str, list[str]] | None = None
        self._split: dict[str, list[list[str]]] = {}

    def segments(self, name: str) -> list[list[str]]:
        found = self._split.get(name)
        if found is None:
            if self._lines is None:
                self._lines = {}
                for line in re.split(r"\r\n|\r|\n", self.text):
                    if is_segment(line, self.d.field):
                        self._lines.setdefault(line[:3], []).append(line)
            found = self._split[name] = [line.split(self.d.field) for line in self._lines.get(name, ())]
        return found


# -- what a query is -----------------------------------------------------------------------
Test = Callable[[Message], bool]


@dataclass(frozen=True)
class Query:
    text: str
    test: Test
    literals: tuple[str, ...]  # words any match must hold (for a full-text prefilter)

    def matches(self, text: str) -> bool:
        return self.test(Message(text))


def parse(text: str) -> Query:
    """A query from its text; QueryError says what is wrong and where."""
    tokens = [t for t in _tokens(text) if t.kind != "space"]
    if not tokens:
        raise QueryError("the query is empty", 0)
    parser = _Parser(tokens, len(text))
    test, literals = parser.any_of()
    if parser.peek() is not None:
        t = parser.peek()
        raise QueryError(f"unexpected {t.text!r}: join conditions with and / or", t.at)
    return Query(text, test, tuple(literals))


def _tokens(text: str) -> list[Token]:
    out = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        if kind == "bad":
            raise QueryError(f"unexpected {m.group()!r}", m.start())
        if kind == "word" and m.group().lower() in _KEYWORDS:
            kind = "keyword"
        out.append(Token(kind, m.group(), m.start()))
    return out


class _Parser:
    def __init__(self, tokens: list[Token], end: int) -> None:
        self.tokens, self.i, self.end = tokens, 0, end

    def peek(self) -> Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> Token:
        t = self.peek()
        if t is None:
            raise QueryError("the query ends too soon", self.end)
        self.i += 1
        return t

    def keyword(self, word: str) -> bool:
        t = self.peek()
        if t is not None and t.kind == "keyword" and t.text.lower() == word:
            self.i += 1
            return True
        return False

    def any_of(self) -> tuple[Test, list[str]]:
        return self._joined("or", self.all_of, any)

    def all_of(self) -> tuple[Test, list[str]]:
        return self._joined("and", self.negated, all)

    def _joined(self, word: str, part: Callable[[], tuple[Test, list[str]]], combine) -> tuple[Test, list[str]]:
        """Parts joined by `word`; every part's words must be in a match of "and", none is
        certain in a match of "or"."""
        parts = [part()]
        while self.keyword(word):
            parts.append(part())
        if len(parts) == 1:
            return parts[0]
        tests = [p[0] for p in parts]
        return (lambda m: combine(t(m) for t in tests)), [w for p in parts for w in p[1]] if combine is all else []

    def negated(self) -> tuple[Test, list[str]]:
        if self.keyword("not"):
            test, _ = self.negated()
            return (lambda m: not test(m)), []
        t = self.peek()
        if t is not None and t.kind == "punct" and t.text == "(":
            self.take()
            inner = self.any_of()
            close = self.take()
            if close.text != ")":
                raise QueryError(f"expected ')' here, not {close.text!r}", close.at)
            return inner
        return self.comparison()

    def comparison(self) -> tuple[Test, list[str]]:
        t = self.take()
        if t.kind != "path":
            raise QueryError(f"expected a field path (PID-3.1, OBX[*]-8), not {t.text!r}", t.at)
        path = FieldPath.parse(t.text, t.at)
        if self.keyword("is"):
            negate = self.keyword("not")
            if not self.keyword("empty"):
                raise QueryError("expected 'empty' after 'is' or 'is not'", self._here())
            if negate:
                return (lambda m: any(v != "" for v in path.values(m))), []
            return (lambda m: all(v == "" for v in path.values(m))), []
        if self.keyword("in"):
            values = self._list()
            wanted = {v.casefold() for v in values}
            return (lambda m: any(v.casefold() in wanted for v in path.values(m))), []
        op = self.take()
        if op.kind != "op":
            raise QueryError(f"expected an operator (= != ~ < > <= >= in, is empty) after {t.text}, not {op.text!r}", op.at)
        value = self._value()
        return _compare(path, op.text, value), ([value] if op.text == "=" and _WORD.fullmatch(value) else [])

    def _here(self) -> int:
        t = self.peek()
        return t.at if t is not None else self.end

    def _value(self) -> str:
        t = self.take()
        if t.kind == "string":
            quote = t.text[0]
            return t.text[1:-1].replace(quote * 2, quote)
        if t.kind in ("word", "path"):
            return t.text
        raise QueryError(f"expected a value, not {t.text!r}", t.at)

    def _list(self) -> list[str]:
        t = self.take()
        if t.text != "(":
            raise QueryError("expected '(' after 'in'", t.at)
        values = [self._value()]
        while (t := self.take()).text == ",":
            values.append(self._value())
        if t.text != ")":
            raise QueryError(f"expected ',' or ')' in the list, not {t.text!r}", t.at)
        return values


_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")  # a literal the full-text index holds as one word
_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")


def _compare(path: FieldPath, op: str, value: str) -> Test:
    if op == "=":
        want = value.casefold()
        return lambda m: any(v.casefold() == want for v in path.values(m))
    if op == "!=":
        want = value.casefold()
        return lambda m: any(v.casefold() != want for v in path.values(m))
    if op == "~":
        pattern = re.compile(fnmatch.translate(value.casefold()))
        return lambda m: any(pattern.match(v.casefold()) for v in path.values(m))
    order = _ORDER[op]
    return lambda m: any(order(_ranked(v, value)) for v in path.values(m) if v != "")


_ORDER = {"<": lambda c: c < 0, ">": lambda c: c > 0, "<=": lambda c: c <= 0, ">=": lambda c: c >= 0}


def _ranked(value: str, literal: str) -> int:
    """-1, 0 or 1: a time against a time to the precision both have (20261201 against
    20261201093000), a number against a number, else text."""
    if len(literal) >= 8 and literal.isdigit() and value[:8].isdigit():
        digits = re.match(r"\d+", value).group()
        n = min(len(digits), len(literal))
        a, b = digits[:n], literal[:n]
    elif _NUMBER.fullmatch(literal) and _NUMBER.fullmatch(value.strip()):
        a, b = float(value), float(literal)
    else:
        a, b = value.casefold(), literal.casefold()
    return (a > b) - (a < b)
