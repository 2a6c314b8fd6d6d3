"""A search query as people type it, checked and turned into an FTS5 expression.

    quang ninh                 both words (AND is implied)
    "Quảng Ninh" OR "Hà Nam"   phrases in double quotes, OR between alternatives
    hợp tác NOT "Hà Nam"       NOT (or a leading minus: -"Hà Nam") leaves matches out
    (Hà Nội OR Hải Phòng) AND du lịch
    cao tốc*                   a trailing * matches words that begin so

Operators are written in capitals; every word is folded (no diacritics, lower case) and
quoted before it reaches SQLite, so no input can be an FTS5 syntax error or reach a column
it does not name. A query that cannot be read gets one line saying why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from crawler.errors import DcsError
from crawler.research.vietnamese import WORD, fold

OPERATORS = ("AND", "OR", "NOT")
_TOKEN = re.compile(
    r'\s*(?:(?P<open>\()|(?P<close>\))|(?P<phrase>-?"[^"]*"\*?)|(?P<word>[^\s()"]+))'
)


class QueryError(DcsError):
    """A query that cannot be read."""


@dataclass(frozen=True)
class Term:
    """A word or phrase: folded words, matched one after another; `prefix` for a trailing *."""

    words: tuple[str, ...]
    prefix: bool = False

    def fts(self) -> str:
        return '"' + " ".join(self.words) + '"' + ("*" if self.prefix else "")


@dataclass(frozen=True)
class Node:
    """An operator over its operands: "AND", "OR", or "NOT" (first operand minus the rest)."""

    op: str
    operands: tuple[Term | Node, ...]

    def fts(self) -> str:
        return "(" + f" {self.op} ".join(o.fts() for o in self.operands) + ")"


@dataclass(frozen=True)
class Query:
    text: str
    tree: Term | Node

    @property
    def fts(self) -> str:
        """The FTS5 MATCH expression."""
        return self.tree.fts()

    @property
    def terms(self) -> list[Term]:
        """The terms a match may show (those under NOT are never in a hit)."""
        found: list[Term] = []

        def walk(node: Term | Node) -> None:
            if isinstance(node, Term):
                found.append(node)
            elif node.op == "NOT":
                walk(node.operands[0])
            else:
                for operand in node.operands:
                    walk(operand)

        walk(self.tree)
        return found


def parse_query(text: str) -> Query:
    """The query, or QueryError saying what is wrong with it."""
    tokens = _tokens(text)
    if not tokens:
        raise QueryError("empty query: give words to look for")
    parser = _Parser(tokens, text)
    tree = parser.expression()
    if parser.pos < len(tokens):
        raise QueryError(f"unexpected {tokens[parser.pos][1]!r} in query {text!r}")
    return Query(text, tree)


def _tokens(text: str) -> list[tuple[str, str]]:
    if text.count('"') % 2:
        raise QueryError(f"unbalanced quote in query {text!r}")
    tokens, pos = [], 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            break
        pos = match.end()
        kind = match.lastgroup
        value = match[kind]  # type: ignore[index]
        if kind == "word" and value in OPERATORS:
            kind = "op"
        tokens.append((kind, value))  # type: ignore[arg-type]
    return tokens


class _Parser:
    """Recursive descent, with FTS5's precedence: NOT binds tightest, then AND, then OR."""

    def __init__(self, tokens: list[tuple[str, str]], text: str) -> None:
        self.tokens, self.text, self.pos = tokens, text, 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def expression(self) -> Term | Node:
        parts = [self.conjunction()]
        while self.peek() == ("op", "OR"):
            self.pos += 1
            if self.peek() in (None, ("op", "OR"), ("close", ")")):
                raise QueryError(f"query {self.text!r}: expected words after OR")
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else Node("OR", tuple(parts))

    def conjunction(self) -> Term | Node:
        wanted: list[Term | Node] = []
        unwanted: list[Term | Node] = []
        while (token := self.peek()) is not None and token not in (("op", "OR"), ("close", ")")):
            if token == ("op", "AND"):
                self.pos += 1
                continue
            if token == ("op", "NOT"):
                self.pos += 1
                unwanted.append(self.operand("NOT"))
                continue
            negated = token[0] in ("word", "phrase") and token[1].startswith("-")
            if negated and len(token[1]) > 1:
                self.tokens[self.pos] = (token[0], token[1][1:])
                unwanted.append(self.operand("-"))
                continue
            term = self.operand(None)
            if term is not None:
                wanted.append(term)
        if not wanted and unwanted:
            raise QueryError(
                f"query {self.text!r}: NOT and - leave words out, give words to look for too"
            )
        if not wanted:
            token = self.peek()
            where = f" before {token[1]!r}" if token else ""
            raise QueryError(f"query {self.text!r}: expected words{where}")
        tree = wanted[0] if len(wanted) == 1 else Node("AND", tuple(wanted))
        return Node("NOT", (tree, *unwanted)) if unwanted else tree

    def operand(self, after: str | None) -> Term | Node | None:
        token = self.peek()
        if token is None or token[0] in ("op", "close"):
            found = token[1] if token else "the end"
            raise QueryError(
                f"query {self.text!r}: expected words after {after or 'that'}, found {found!r}"
            )
        self.pos += 1
        kind, value = token
        if kind == "open":
            inner = self.expression()
            if self.peek() != ("close", ")"):
                raise QueryError(f"query {self.text!r}: unbalanced parenthesis")
            self.pos += 1
            return inner
        prefix = value.endswith("*")
        raw = value.rstrip("*")
        if kind == "phrase":
            raw = raw[1:-1]
        words = tuple(WORD.findall(fold(raw)))
        if not words:
            if after is None and kind == "word":
                return None  # punctuation typed between words ("Hà Nội - Quảng Ninh")
            raise QueryError(f"query {self.text!r}: {value!r} has no letters or digits")
        return Term(words, prefix)
