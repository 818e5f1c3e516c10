"""Problem specs: the data half of a problem folder (``problem.toml``).

Specs are validated on load; every error names the file and the key.
"""

from __future__ import annotations

import enum
import functools
import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from grader.errors import SpecError
from grader.results import Message
from grader.rubric import Rubric, load_rubric
from grader.toml_files import read_toml

PathSegment = str | int
_PATH = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*|\[\d+\])*", re.ASCII)
_SEGMENT = re.compile(r"[A-Za-z_]\w*|\[\d+\]", re.ASCII)
_ID = re.compile(r"[a-z][a-z0-9_]*")


class AnswerKind(enum.StrEnum):
    """How a part's answer is read and compared."""

    NUMBER = "number"
    INTEGER = "integer"
    SHAPE = "shape"
    MATRIX = "matrix"
    BOOLEAN = "boolean"
    FORMULA = "formula"
    TEXT = "text"


class Check(enum.StrEnum):
    """Who decides whether an answer is right."""

    COMPARE = "compare"  # the engine compares with the solver's answer (and its mistakes)
    SOLVER = "solver"    # the solver's verify() judges it (e.g. any kernel that computes the pooling)


ENGINE_DIAGNOSES = frozenset({
    "number_only",       # a formula part answered with a bare number equal to the right value
    "sign_wrong",        # the formula negated
    "term_missing",      # reference terms left out ({terms} in the message names them)
    "term_extra",        # terms that are not in the reference ({terms})
    "operator_missing",  # a term of higher degree than any in the reference: terms run together ({terms})
    "mislabelled",       # the right formula of another part ({other} names it)
})
"""Diagnoses the engine itself recognises; a spec gives them credit like the solver's mistakes."""


@dataclass(frozen=True)
class Tolerance:
    """Numbers within ``abs`` or within ``rel`` × |expected| of the expected value are equal."""

    rel: Fraction = Fraction(0)
    abs: Fraction = Fraction(0)


@dataclass(frozen=True)
class PartSpec:
    """One graded part of a problem.

    Attributes:
        id: Part id shown in reports, e.g. ``layer1.params``.
        answer: Where the answer sits in the problem's table, as path segments
            (``layers[0].params`` is ``("layers", 0, "params")``).
        kind: How the answer is read and compared.
        points: Points for a fully correct answer.
        tolerance: For numbers and matrices.
        hint: What to check, shown with a wrong answer that no known mistake explains.
        check: Who judges the answer: the engine's comparison, or the solver's ``verify``.
        rubric: For essays (kind ``text``): the rubric, from the file the part names.
        reads: Other answer paths the part's check reads (known keys, not graded alone).
    """

    id: str
    answer: tuple[PathSegment, ...]
    kind: AnswerKind
    points: Fraction
    tolerance: Tolerance
    hint: Message | None = None
    check: Check = Check.COMPARE
    rubric: Rubric | None = None
    reads: tuple[tuple[PathSegment, ...], ...] = ()

    @functools.cached_property  # read for every part of every submission
    def answer_text(self) -> str:
        """The answer path as a student writes it, e.g. ``layers[0].params``."""
        return format_path(self.answer)


@dataclass(frozen=True)
class MistakeSpec:
    """A known mistake the solver can switch on, with its credit and feedback."""

    id: str
    credit: Fraction
    message: Message


@dataclass(frozen=True)
class ProblemSpec:
    """A problem as its folder describes it.

    Attributes:
        id: Problem id, the submission's table name (``q3``).
        folder: The problem folder.
        title: Short title in both languages.
        statement: The problem statement in both languages.
        parameters: Passed to the solver unchanged (read-only).
        parts: Graded parts, in report order.
        mistakes: Known mistakes by id.
        carried_forward_credit: Share of a part's points for a value that is
            right given the student's own earlier (wrong) answers.
        variants: The ``[variants]`` table: what the solver's ``vary`` may
            change per student (empty: everyone gets the same problem).
    """

    id: str
    folder: Path
    title: Message
    statement: Message
    parameters: Mapping[str, Any]
    parts: tuple[PartSpec, ...]
    mistakes: Mapping[str, MistakeSpec]
    carried_forward_credit: Fraction
    variants: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    @functools.cached_property  # every student's report asks for it
    def max_score(self) -> Fraction:
        """Points possible for the problem."""
        return sum((part.points for part in self.parts), Fraction(0))


def parse_path(text: str) -> tuple[PathSegment, ...]:
    """Split an answer path such as ``layers[0].output_shape`` into segments.

    Raises:
        ValueError: When the text is not a path.
    """
    if not _PATH.fullmatch(text):
        raise ValueError(f"not an answer path such as layers[0].params: {text!r}")
    return tuple(int(token[1:-1]) if token.startswith("[") else token for token in _SEGMENT.findall(text))


def format_path(segments: tuple[PathSegment, ...]) -> str:
    """Inverse of :func:`parse_path`."""
    text = ""
    for segment in segments:
        text += f"[{segment}]" if isinstance(segment, int) else (f".{segment}" if text else segment)
    return text


class _Reader:
    """Typed access to a TOML table that reports errors with file and key."""

    def __init__(self, file: Path) -> None:
        self.file = file

    def error(self, key: str, message: str) -> SpecError:
        return SpecError(self.file, key, message)

    def get(self, table: Mapping[str, Any], key: str, prefix: str, kind: type | tuple[type, ...],
            default: Any = ...) -> Any:
        full = f"{prefix}{key}"
        if key not in table:
            if default is ...:
                raise self.error(full, "is required")
            return default
        value = table[key]
        if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _as_tuple(kind)):
            names = " or ".join(t.__name__ for t in _as_tuple(kind))
            raise self.error(full, f"expected {names}, got {type(value).__name__} {value!r}")
        return value

    def fraction(self, table: Mapping[str, Any], key: str, prefix: str, default: Any = ...,
                 *, low: Fraction = Fraction(0), high: Fraction | None = None) -> Fraction:
        value = self.get(table, key, prefix, (int, float, str), default)
        try:
            number = Fraction(repr(value)) if isinstance(value, float) else Fraction(value)
        except (ValueError, ZeroDivisionError):
            raise self.error(f"{prefix}{key}", f"expected a number, got {value!r}") from None
        if number < low or (high is not None and number > high):
            bound = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise self.error(f"{prefix}{key}", f"must be {bound}, got {value!r}")
        return number

    def message(self, table: Mapping[str, Any], key: str, prefix: str = "") -> Message:
        inner = self.get(table, key, prefix, dict)
        return Message(en=self.get(inner, "en", f"{prefix}{key}.", str).strip(),
                       fa=self.get(inner, "fa", f"{prefix}{key}.", str).strip())


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def load_spec(folder: Path, known_mistakes: frozenset[str] = frozenset()) -> ProblemSpec:
    """Read and validate ``folder/problem.toml``.

    Args:
        folder: The problem folder.
        known_mistakes: Mistake switches the folder's solver implements; the
            spec may only give credit for those.

    Raises:
        SpecError: Naming the file and key, when the spec is unreadable or invalid.
    """
    file = folder / "problem.toml"
    reader = _Reader(file)
    data = read_toml(file, "problem folder has no problem.toml")

    problem_id = reader.get(data, "id", "", str)
    if not _ID.fullmatch(problem_id):
        raise reader.error("id", f"must be lower-case letters, digits and _, starting with a letter; got {problem_id!r}")
    grading = reader.get(data, "grading", "", dict, {})
    default_tolerance = _tolerance(reader, grading, "grading.", Tolerance())

    raw_parts = reader.get(data, "parts", "", list)
    if not raw_parts:
        raise reader.error("parts", "must list at least one part")
    parts = []
    for index, raw in enumerate(raw_parts):
        prefix = f"parts[{index}]."
        if not isinstance(raw, dict):
            raise reader.error(f"parts[{index}]", "expected a table")
        part_id = reader.get(raw, "id", prefix, str)
        try:
            answer = parse_path(reader.get(raw, "answer", prefix, str))
        except ValueError as error:
            raise reader.error(f"{prefix}answer", str(error)) from None
        kind_text = reader.get(raw, "kind", prefix, str)
        try:
            kind = AnswerKind(kind_text)
        except ValueError:
            choices = ", ".join(k.value for k in AnswerKind)
            raise reader.error(f"{prefix}kind", f"unknown kind {kind_text!r}; one of: {choices}") from None
        points = reader.fraction(raw, "points", prefix)
        hint = reader.message(raw, "hint", prefix) if "hint" in raw else None
        check_text = reader.get(raw, "check", prefix, str, Check.COMPARE.value)
        try:
            check = Check(check_text)
        except ValueError:
            raise reader.error(f"{prefix}check", f"must be 'compare' or 'solver', got {check_text!r}") from None
        rubric = None
        if kind is AnswerKind.TEXT:
            rubric_name = reader.get(raw, "rubric", prefix, str)
            if Path(rubric_name).name != rubric_name:
                raise reader.error(f"{prefix}rubric", "must be a file name inside the problem folder")
            rubric = load_rubric(folder / rubric_name)
        try:
            reads = tuple(parse_path(p) for p in reader.get(raw, "reads", prefix, list, []))
        except (ValueError, TypeError) as error:
            raise reader.error(f"{prefix}reads", f"expected a list of answer paths: {error}") from None
        parts.append(PartSpec(part_id, answer, kind, points, _tolerance(reader, raw, prefix, default_tolerance),
                              hint, check, rubric, reads))
    seen: set[str] = set()
    for index, part in enumerate(parts):
        if part.id in seen:
            raise reader.error(f"parts[{index}].id", f"duplicate part id {part.id!r}")
        seen.add(part.id)

    mistakes = {}
    for mistake_id, raw in sorted(reader.get(data, "mistakes", "", dict, {}).items()):
        prefix = f"mistakes.{mistake_id}."
        if not isinstance(raw, dict):
            raise reader.error(f"mistakes.{mistake_id}", "expected a table")
        if mistake_id not in known_mistakes | ENGINE_DIAGNOSES:
            hint = ", ".join(sorted(known_mistakes | ENGINE_DIAGNOSES))
            raise reader.error(f"mistakes.{mistake_id}", f"neither the solver nor the engine knows this mistake (known: {hint})")
        mistakes[mistake_id] = MistakeSpec(
            mistake_id,
            reader.fraction(raw, "credit", prefix, high=Fraction(1)),
            Message(en=reader.get(raw, "en", prefix, str).strip(), fa=reader.get(raw, "fa", prefix, str).strip()),
        )

    return ProblemSpec(
        id=problem_id,
        folder=folder,
        title=reader.message(data, "title"),
        statement=reader.message(data, "statement"),
        parameters=MappingProxyType(reader.get(data, "parameters", "", dict, {})),
        parts=tuple(parts),
        mistakes=MappingProxyType(mistakes),
        carried_forward_credit=reader.fraction(grading, "carried_forward_credit", "grading.", Fraction(1),
                                               high=Fraction(1)),
        variants=MappingProxyType(reader.get(data, "variants", "", dict, {})),
    )


def _tolerance(reader: _Reader, table: Mapping[str, Any], prefix: str, default: Tolerance) -> Tolerance:
    return Tolerance(rel=reader.fraction(table, "rel_tol", prefix, default.rel),
                     abs=reader.fraction(table, "abs_tol", prefix, default.abs))
