"""The answer key in the submission format, made from the solvers."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import json
import re

from grader.formulas.equivalence import Formula
from grader.problems import Problem
from grader.spec import PathSegment

KEY_STUDENT_ID = "answer-key"


def key_value(value: Any) -> Any:
    """A solver's value as TOML writes it: exact numbers stay exact (``"1/3"`` when not a short decimal)."""
    if isinstance(value, Formula):
        return value.text  # SymPy's plain form is the contract's plain math
    if isinstance(value, (tuple, list)):
        return [key_value(item) for item in value]
    if isinstance(value, Fraction):
        if value.denominator == 1:
            return value.numerator
        as_float = float(value)
        return as_float if Fraction(repr(as_float)) == value else f"{value.numerator}/{value.denominator}"
    return value


def put_path(tree: dict[str, Any], path: tuple[PathSegment, ...], value: Any) -> None:
    """Set ``value`` at ``path`` in nested dicts and lists, creating what is missing."""
    node: Any = tree
    for index, segment in enumerate(path):
        if isinstance(segment, int):
            node.extend([None] * (segment + 1 - len(node)))
        if index == len(path) - 1:
            node[segment] = value
            return
        if isinstance(segment, int) and node[segment] is None or isinstance(segment, str) and segment not in node:
            node[segment] = [] if isinstance(path[index + 1], int) else {}
        node = node[segment]


def answer_key(problems: tuple[Problem, ...]) -> dict[str, Any]:
    """Every part's expected answer, nested as a submission holds it."""
    key: dict[str, Any] = {"student": {"id": KEY_STUDENT_ID}}
    for problem in problems:
        table: dict[str, Any] = {}
        for part in problem.spec.parts:
            put_path(table, part.answer, key_value(problem.expected[part.answer_text]))
        key[problem.id] = table
    return key


def answer_key_toml(problems: tuple[Problem, ...]) -> str:
    """The answer key as the text of an ``answers.toml``."""
    header = ("# The answer key, written by `grade key` from the problems' reference solvers.\n"
              "# Do not edit: change the problem folders and run `grade key` again.\n")
    return header + to_toml(answer_key(problems))


_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(name: str) -> str:
    return name if _BARE_KEY.match(name) else json.dumps(name, ensure_ascii=False)


def _inline(value: Any) -> str:
    """A value as inline TOML (JSON's string escapes are valid TOML basic strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        if ("\n" in value and "\\" not in value and '"' not in value
                and not any((ord(c) < 0x20 and c not in "\n\t") or c == "\x7f" for c in value)):
            return '"""\n' + value + '"""'  # essays stay readable as multi-line strings
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_inline(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_inline(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def to_toml(document: dict[str, Any]) -> str:
    """Write answers the way the contract shows them: a section per problem, one line per list entry.

    tomli-w would write the same data, but spreads every short array over
    several lines; students copy this layout, so it is kept close to the contract.
    """
    lines: list[str] = []

    def section(name: str, table: dict[str, Any]) -> None:
        lines.append(f"[{name}]")
        for key, value in table.items():
            if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
                lines.append(f"{_key(key)} = [")
                lines.extend(f"  {_inline(item)}," for item in value)
                lines.append("]")
            elif not isinstance(value, dict):
                lines.append(f"{_key(key)} = {_inline(value)}")
        lines.append("")
        for key, value in table.items():
            if isinstance(value, dict):
                section(f"{name}.{_key(key)}", value)

    for name, value in document.items():  # TOML puts top-level keys before the first table
        if not isinstance(value, dict):
            lines.append(f"{_key(name)} = {_inline(value)}")
    if lines:
        lines.append("")
    for name, table in document.items():
        if isinstance(table, dict):
            section(_key(name), table)
    return "\n".join(lines)
