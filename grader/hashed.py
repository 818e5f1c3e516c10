"""Answers a student can check without seeing them: salted, deliberately slow hashes.

The student bundle (``grade bundle``) holds, for every part, a random salt
and the scrypt digest of the expected answer's canonical text, and the same
for the answers of each known mistake (so the offline check can still name
them). A student's value is read by the grader's own readers, written in the
same canonical form, hashed with the part's salt and compared.

Canonical forms: exact numbers as ``p/q`` (rounded to the part's absolute
tolerance grid when it has one), shapes and matrices entry by entry, booleans
as ``true``/``false``, and formulas as their exact values at random rational
points stored in the bundle (every symbol, the local gradients included, has a
value there). A formula is also accepted with the upstream values written in,
as the grader accepts it.

Hashes do not make guessing impossible: an answer from a small set (a
yes/no, a parameter count, a small integer) can be found by trying every
candidate. scrypt makes each try cost about 60 ms and 16 MiB, so a search over
millions of candidates takes days, but over a hundred it takes seconds.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import random
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Mapping

from grader.errors import SolverError, SpecError
from grader.formulas.expr import number
from grader.results import Verdict
from grader.spec import AnswerKind, PartSpec

CHECKS_FILE = "checks.json"
SCRYPT = {"n": 2**14, "r": 8, "p": 1}
"""scrypt cost: about 60 ms and 16 MiB per hash on this project's 2-core test machine."""
POINTS = 3
"""Random points a formula is evaluated at."""
_FORMAT = 1


@functools.lru_cache(maxsize=4096)  # a student's value is hashed once per part, whatever it is compared with
def digest(salt: bytes, text: str, cost: tuple[int, int, int]) -> str:
    """The scrypt digest (hex) of ``text`` with ``salt`` at ``cost`` (n, r, p)."""
    n, r, p = cost
    return hashlib.scrypt(text.encode(), salt=salt, n=n, r=r, p=p, dklen=32, maxmem=2**26).hex()


def scrypt_cost() -> tuple[int, int, int]:
    """The cost new bundles are hashed at (``SCRYPT``)."""
    return SCRYPT["n"], SCRYPT["r"], SCRYPT["p"]


def _number_text(value: Fraction, grid: Fraction) -> str:
    if grid:
        value = Fraction(round(value / grid)) * grid
    return f"{value.numerator}/{value.denominator}"


def canonical(kind: AnswerKind, value: Any, grid: Fraction, points: tuple[Mapping[str, Fraction], ...]) -> str:
    """A read value written the one way its digest is taken.

    Args:
        kind: The part's kind.
        value: The value, as the grader's readers give it (a formula tree for formulas).
        grid: The part's absolute tolerance (numbers are rounded to its multiples), or 0 for exact.
        points: For formulas: the symbol values to evaluate at.
    """
    if kind is AnswerKind.FORMULA:
        return "formula:" + ";".join(_value_at(value, point) for point in points)
    if kind is AnswerKind.MATRIX:
        return "matrix:" + ";".join(",".join(_number_text(Fraction(v), grid) for v in row) for row in value)
    if kind is AnswerKind.NUMBER:
        return "number:" + _number_text(Fraction(value), grid)
    if kind is AnswerKind.SHAPE:
        return "shape:" + ",".join(str(v) for v in value)
    if kind is AnswerKind.BOOLEAN:
        return "boolean:" + ("true" if value else "false")
    return f"{kind.value}:{value}"


def _value_at(expr: Any, point: Mapping[str, Fraction]) -> str:
    try:
        value = expr.value(point)
    except ZeroDivisionError:
        return "undefined"
    return f"{value.numerator}/{value.denominator}"


@dataclass(frozen=True)
class HashedAnswer:
    """An expected answer the student cannot read: digests of its canonical forms.

    Attributes:
        kind: The part's kind.
        salt: The part's random salt.
        digests: Digests of every accepted canonical form (a formula has two:
            with the upstream symbols, and with their values written in).
        grid: The absolute tolerance grid (0: exact).
        points: For formulas: the symbol values of the evaluation points.
        size: For matrices: rows and columns (so a wrong size is reported as such).
        cost: The scrypt cost (n, r, p) it was hashed at.
    """

    kind: AnswerKind
    salt: bytes
    digests: frozenset[str]
    grid: Fraction = Fraction(0)
    points: tuple[Mapping[str, Fraction], ...] = ()
    size: tuple[int, int] | None = None
    cost: tuple[int, int, int] = (SCRYPT["n"], SCRYPT["r"], SCRYPT["p"])

    def matches(self, value: Any) -> bool:
        """Whether a read student value has one of the digests."""
        return digest(self.salt, canonical(self.kind, value, self.grid, self.points), self.cost) in self.digests


def hash_answer(part: PartSpec, value: Any, salt: bytes, points: tuple[Mapping[str, Fraction], ...],
                variant: str = "expected") -> HashedAnswer:
    """Hash a solver's answer for ``part``.

    Args:
        part: The part.
        value: The solver's value (a :class:`~grader.formulas.equivalence.Formula` for formulas).
        salt: The part's salt.
        points: The part's evaluation points (formulas).
        variant: ``expected``; for formulas also ``number`` (its value as a
            bare number) and ``negated`` (the sign-wrong answer).
    """
    grid = part.tolerance.abs
    if part.kind is AnswerKind.FORMULA:
        if variant == "number":
            forms = [number(value.number)]
        else:
            forms = [value.expr] + ([value.substituted] if value.upstream else [])
            if variant == "negated":
                forms = [-form for form in forms]
        texts = {canonical(part.kind, form, grid, points) for form in forms}
    else:
        texts = {canonical(part.kind, value, grid, points)}
    size = (len(value), len(value[0])) if part.kind is AnswerKind.MATRIX else None
    cost = scrypt_cost()
    return HashedAnswer(part.kind, salt, frozenset(digest(salt, text, cost) for text in texts), grid, points, size, cost)


def random_points(symbols: frozenset[str], definitions: Mapping[str, Any], generator: random.Random
                  ) -> tuple[Mapping[str, Fraction], ...]:
    """``POINTS`` random rational points over the base symbols, with every defined symbol's value at each."""
    from grader.formulas.equivalence import random_point  # the bundle's only: grading need not import it

    base = sorted(symbols - set(definitions))
    points = []
    for _ in range(POINTS):
        point = random_point(base, generator)
        values = dict(point)
        for name, expr in sorted(definitions.items()):  # the solver's formulas in the base symbols
            point[name] = expr.value(values)
        points.append(point)
    return tuple(points)


# --------------------------------------------------------------------------------------------
# checks.json: what a problem folder of the student bundle holds instead of its solver.

def _encode(answer: HashedAnswer) -> dict[str, Any]:
    data: dict[str, Any] = {"kind": answer.kind.value, "salt": answer.salt.hex(), "digests": sorted(answer.digests)}
    if answer.grid:
        data["grid"] = str(answer.grid)
    if answer.size is not None:
        data["size"] = list(answer.size)
    return data


def _decode(data: Mapping[str, Any], points: tuple[Mapping[str, Fraction], ...], cost: tuple[int, int, int]
            ) -> HashedAnswer:
    size = data.get("size")
    return HashedAnswer(AnswerKind(data["kind"]), bytes.fromhex(data["salt"]), frozenset(data["digests"]),
                        Fraction(data.get("grid", "0")), points, tuple(size) if size else None, cost)


def checks_document(parameters: Mapping[str, Any], symbols: frozenset[str], points: tuple[Mapping[str, Fraction], ...],
                    expected: Mapping[str, HashedAnswer], mistaken: Mapping[str, Mapping[str, HashedAnswer]]
                    ) -> dict[str, Any]:
    """The JSON document of a problem's hashed answers."""
    return {
        "format": _FORMAT,
        "scrypt": dict(zip("nrp", scrypt_cost())),
        "parameters": dict(parameters),
        "symbols": sorted(symbols),
        "points": [{k: str(v) for k, v in sorted(point.items())} for point in points],
        "expected": {path: _encode(answer) for path, answer in sorted(expected.items())},
        "mistakes": {m: {path: _encode(a) for path, a in sorted(answers.items())} for m, answers in sorted(mistaken.items())},
    }


class HashedSolver:
    """Stands in for a problem's solver in the student bundle: it knows the answers only as digests.

    It offers what the engine asks of a solver: ``solve`` (the hashed key, or
    a mistake's hashed answers), ``verify`` (for ``check = "solver"`` parts:
    the key's form only), ``symbols`` and ``MISTAKES``. Error carried forward
    needs the real solver, so ``solve(given=...)`` gives nothing here.
    """

    def __init__(self, file: Path) -> None:
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
            if data.get("format") != _FORMAT:
                raise SpecError(file, "format", f"unknown format {data.get('format')!r}; rebuild the bundle")
            cost = (int(data["scrypt"]["n"]), int(data["scrypt"]["r"]), int(data["scrypt"]["p"]))
            points = tuple({k: Fraction(v) for k, v in point.items()} for point in data["points"])
            self.parameters: Mapping[str, Any] = data["parameters"]
            self._symbols = frozenset(data["symbols"])
            self._expected = {path: _decode(a, points, cost) for path, a in data["expected"].items()}
            self._mistaken = {m: {path: _decode(a, points, cost) for path, a in answers.items()}
                              for m, answers in data["mistakes"].items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
            raise SpecError(file, "", f"not a readable checks file: {error}") from None
        self.MISTAKES = frozenset(self._mistaken)

    def solve(self, parameters: Mapping[str, Any], *, mistakes: frozenset[str] = frozenset(),
              given: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The hashed key, or with one mistake on, the key with that mistake's hashed answers over it."""
        if given is not None:
            raise SolverError("error carried forward is judged by the grader, not offline")
        answers = dict(self._expected)
        for mistake in mistakes:
            answers.update(self._mistaken[mistake])
        return answers

    def verify(self, parameters: Mapping[str, Any], path: str, value: Any, table: Mapping[str, Any]) -> Verdict | None:
        """A ``check = "solver"`` part, compared with the key's own form."""
        from grader import feedback

        return Verdict(Fraction(1), (feedback.CORRECT,)) if self._expected[path].matches(value) else None

    def symbols(self, parameters: Mapping[str, Any]) -> frozenset[str]:
        """The symbols the problem's formulas may use."""
        return self._symbols


def new_salt() -> bytes:
    """A fresh random salt (16 bytes)."""
    return os.urandom(16)
