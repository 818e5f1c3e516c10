"""Problems that test themselves: question tests run for the homework and for random variants.

In the spirit of STACK's question tests, each case is a set of answers with
the result it must get. Answers are built from the solver, so one case holds
in every variant:

* ``answers = "key"``: the solver's answers (must score full marks);
* ``answers = "mistake"`` with ``mistake = "<id>"``: the answers with that
  mistake switched on (it must be diagnosed, and cost points);
* ``answers = { ... }``: literal answers, for the homework's numbers only.

``change = { part = "transform" }`` then alters single parts: ``perturb``
(one entry moved far off), ``negate``, ``number`` (a formula replaced by its
value, as a string), ``drop_term`` (a formula's first term left out).

Besides the cases of a problem's ``tests.toml``, every problem gets these
without writing them: the key scores full marks; each mistake switch is
diagnosed; and one entry changed in any part compared with the key loses
exactly that part's points.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from types import MappingProxyType
from typing import Any, Iterable, Mapping

from grader.answer_key import key_value, put_path
from grader.errors import SpecError
from grader.problems import Problem
from grader.results import ProblemResult, Status
from grader.spec import AnswerKind, Check, PartSpec
from grader.toml_files import read_toml

TESTS_FILE = "tests.toml"
_KEYS = frozenset({"name", "answers", "mistake", "change", "score", "lost", "statuses", "diagnoses", "diagnosis",
                   "variants"})
DEFAULT_VARIANTS = 50
_OFFSET = 10007
"""Added to one entry by ``perturb``: far from any value a known mistake gives."""


class Transform(enum.StrEnum):
    """How a case alters one part of its answers."""

    PERTURB = "perturb"
    NEGATE = "negate"
    NUMBER = "number"
    DROP_TERM = "drop_term"


@dataclass(frozen=True)
class QuestionTest:
    """One question test.

    Attributes:
        name: What the case is about.
        answers: ``"key"``, ``"mistake"``, or a literal answers table.
        mistake: The mistake switched on (``answers = "mistake"``).
        change: Part id -> transform applied to that part's answer.
        score: The problem score it must get; None to leave it unchecked.
        lost: Points it must lose against full marks (so it holds in any variant).
        statuses: Part id -> status it must get.
        diagnoses: Part id -> diagnosis it must get.
        diagnosis: A diagnosis at least one part must get.
        variants: Whether the case runs on variants too (literal answers do not).
    """

    name: str
    answers: str | Mapping[str, Any] = "key"
    mistake: str | None = None
    change: Mapping[str, Transform] = field(default_factory=dict)
    score: Fraction | None = None
    lost: Fraction | None = None
    statuses: Mapping[str, Status] = field(default_factory=dict)
    diagnoses: Mapping[str, str] = field(default_factory=dict)
    diagnosis: str | None = None
    variants: bool = True


@dataclass(frozen=True)
class Failure:
    """A question test that did not get its result.

    Attributes:
        problem: Problem id.
        variant: ``homework``, or the variant's student id.
        parameters: The problem's parameters in that variant.
        test: The case's name.
        reason: What differed.
    """

    problem: str
    variant: str
    parameters: Mapping[str, Any]
    test: str
    reason: str


def load_tests(problem: Problem) -> tuple[QuestionTest, ...]:
    """The problem's own cases (``tests.toml`` in its folder; none without one).

    Raises:
        SpecError: Naming the file and key of a malformed case.
    """
    file = problem.spec.folder / TESTS_FILE
    if not file.is_file():
        return ()
    raw_tests = read_toml(file).get("tests", [])
    if not isinstance(raw_tests, list):
        raise SpecError(file, "tests", "expected an array of tables ([[tests]])")
    return tuple(_read_test(file, problem, index, raw) for index, raw in enumerate(raw_tests))


def _read_test(file: Path, problem: Problem, index: int, raw: Any) -> QuestionTest:
    where = f"tests[{index}]"
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
        raise SpecError(file, where, "expected a table with a name")
    unknown = sorted(set(raw) - _KEYS)
    if unknown:  # a misspelt expectation must not pass silently
        raise SpecError(file, f"{where}.{unknown[0]}", f"unknown key; the keys are {', '.join(sorted(_KEYS))}")
    parts = {part.id for part in problem.spec.parts}
    answers = raw.get("answers", "key")
    if not (answers in ("key", "mistake") or isinstance(answers, dict)):
        raise SpecError(file, f"{where}.answers", "must be 'key', 'mistake' or a table of answers")
    mistake = raw.get("mistake")
    if (answers == "mistake") != (mistake is not None) or (mistake is not None and mistake not in problem.mistaken):
        raise SpecError(file, f"{where}.mistake", "answers = 'mistake' needs mistake = one of the solver's switches: "
                        + ", ".join(sorted(problem.mistaken)))

    def table(key: str) -> dict[str, Any]:
        value = raw.get(key, {})
        if not isinstance(value, dict) or not set(value) <= parts:
            raise SpecError(file, f"{where}.{key}", "must map part ids of this problem to values")
        return value

    if isinstance(answers, dict) and raw.get("change"):
        raise SpecError(file, f"{where}.change", "applies to answers built from the solver (key or mistake), "
                        "not to literal answers: write the changed answer in the table")
    try:
        change = {part: Transform(how) for part, how in table("change").items()}
        statuses = {part: Status(status) for part, status in table("statuses").items()}
    except ValueError as error:
        raise SpecError(file, where, str(error)) from None
    numbers = {}
    for key in ("score", "lost"):
        if key in raw:
            if not isinstance(raw[key], (int, float)) or isinstance(raw[key], bool):
                raise SpecError(file, f"{where}.{key}", "must be a number")
            numbers[key] = Fraction(str(raw[key]))
    return QuestionTest(raw["name"], answers if isinstance(answers, str) else MappingProxyType(answers), mistake,
                        MappingProxyType(change), numbers.get("score"), numbers.get("lost"),
                        MappingProxyType(statuses), MappingProxyType(table("diagnoses")), raw.get("diagnosis"),
                        bool(raw.get("variants", not isinstance(answers, dict))))


def automatic_tests(problem: Problem) -> tuple[QuestionTest, ...]:
    """The cases every problem gets: key, each mistake switch, one entry changed in each compared part."""
    tests = [QuestionTest("the key scores full marks", lost=Fraction(0))]
    tests += [QuestionTest(f"mistake {m} is diagnosed", "mistake", m, diagnosis=m) for m in sorted(problem.mistaken)]
    tests += [QuestionTest(f"one entry of {part.id} changed loses exactly its points",
                           change=MappingProxyType({part.id: Transform.PERTURB}), lost=part.points,
                           statuses=MappingProxyType({part.id: Status.WRONG}))
              for part in problem.spec.parts if part.check is Check.COMPARE and part.kind is not AnswerKind.TEXT]
    return tuple(tests)


def run_test(problem: Problem, test: QuestionTest) -> list[str]:
    """Grade the case's answers on ``problem``; the reasons it failed (empty when it passed)."""
    from grader.engine import grade_problem  # the engine imports the problems; import it when tests run

    try:
        table = answers_table(problem, test)
    except ValueError as error:  # a transform that does not apply to the part (drop_term on one term)
        return [f"cannot build the answers: {error}"]
    result, _ = grade_problem(problem, table)
    return check_result(problem, test, result)


def answers_table(problem: Problem, test: QuestionTest) -> dict[str, Any]:
    """The case's answers, as a student's table for the problem."""
    if isinstance(test.answers, Mapping):
        return dict(test.answers)
    values = _values(problem, test.mistake)
    table: dict[str, Any] = {}
    for part in problem.spec.parts:
        value = values[part.answer_text]
        if part.id in test.change:
            value = _transform(test.change[part.id], part, value, problem)
        put_path(table, part.answer, value if isinstance(value, (str, int)) else key_value(value))
    # Answers a check reads besides the parts (Q2b's avg_stride) come from the solver when it gives them.
    for path in (path for part in problem.spec.parts for path in part.reads):
        text = ".".join(str(p) for p in path)
        if text in values:
            put_path(table, path, key_value(values[text]))
    return table


@functools.lru_cache(maxsize=64)
def _values(problem: Problem, mistake: str | None) -> Mapping[str, Any]:
    """The solver's answers (with ``mistake`` on), formulas already written as text (printing them is slow)."""
    from grader.formulas.equivalence import Formula

    values = dict(problem.expected)
    if mistake is not None:
        values.update(problem.mistaken[mistake])
    return MappingProxyType({path: key_value(v) if isinstance(v, Formula) else v for path, v in values.items()})


def _transform(how: Transform, part: PartSpec, value: Any, problem: Problem) -> Any:
    """One part's answer altered the way a case says."""
    if part.kind is AnswerKind.FORMULA:
        return _transform_formula(how, part, problem)
    if how is Transform.NEGATE:
        return _map_entries(value, lambda v: -v)
    if how is not Transform.PERTURB:
        raise ValueError(f"{how} applies to formulas only")
    if isinstance(value, bool):
        return not value
    first = [True]

    def once(entry: Any) -> Any:
        if first[0]:
            first[0] = False
            return entry + _OFFSET
        return entry

    return _map_entries(value, once)


def _map_entries(value: Any, change: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return type(value)(_map_entries(item, change) for item in value)
    return change(Fraction(value) if not isinstance(value, int) else value)


def _transform_formula(how: Transform, part: PartSpec, problem: Problem) -> Any:
    import sympy

    from grader.formulas.equivalence import Formula
    from grader.formulas.expr import from_sympy, mul, number

    formula = problem.expected[part.answer_text]
    expr = formula.expr
    if how is Transform.NUMBER:  # written as a string, as the contract writes every formula
        value = formula.number
        return f"{value.numerator}/{value.denominator}" if value.denominator != 1 else str(value.numerator)
    if how is Transform.NEGATE:
        return Formula(-expr)
    if how is Transform.PERTURB:
        return Formula(mul(number(_OFFSET), expr))
    terms = sorted(sympy.Add.make_args(sympy.expand(expr.to_sympy())), key=str)
    if len(terms) < 2:
        raise ValueError("drop_term needs a formula of two terms or more")
    return Formula(from_sympy(sympy.Add(*terms[1:])))


def check_result(problem: Problem, test: QuestionTest, result: ProblemResult) -> list[str]:
    """What in ``result`` differs from what the case expects."""
    reasons = []
    parts = {p.part: p for p in result.parts}
    full = problem.spec.max_score
    if test.score is not None and result.score != test.score:
        reasons.append(f"score {result.score} (expected {test.score})")
    if test.lost is not None and full - result.score != test.lost:
        reasons.append(f"lost {full - result.score} points (expected {test.lost})")
    for part_id, status in test.statuses.items():
        if parts[part_id].status is not status:
            reasons.append(f"{part_id}: {parts[part_id].status} (expected {status})")
    for part_id, diagnosis in test.diagnoses.items():
        if parts[part_id].diagnosis != diagnosis:
            reasons.append(f"{part_id}: diagnosis {parts[part_id].diagnosis} (expected {diagnosis})")
    if test.diagnosis is not None:
        if not any(p.diagnosis == test.diagnosis for p in result.parts):
            found = sorted({str(p.diagnosis) for p in result.parts if p.diagnosis})
            reasons.append(f"no part diagnosed {test.diagnosis} (found: {', '.join(found) or 'none'})")
        if result.score >= full:
            reasons.append("full marks for answers with a mistake")
    if test.mistake is not None:  # parts the mistake leaves alone stay right
        for part in problem.spec.parts:
            answers = problem.mistaken[test.mistake]
            if part.answer_text in answers and answers[part.answer_text] == problem.expected[part.answer_text] \
                    and part.id not in test.change and parts[part.id].status is not Status.CORRECT:
                reasons.append(f"{part.id}: {parts[part.id].status}, though the mistake does not change it")
    return reasons


@dataclass(frozen=True)
class SelftestReport:
    """What ``grade selftest`` found.

    Attributes:
        runs: Problem id -> number of (variant, case) runs.
        failures: Every case that did not get its result.
    """

    runs: Mapping[str, int]
    failures: tuple[Failure, ...]


def selftest(problems: tuple[Problem, ...], variants: int = DEFAULT_VARIANTS, seed: int = 0,
             assignment: str = "selftest") -> SelftestReport:
    """Run every problem's cases on the homework's numbers and on ``variants`` random variants.

    Variants are drawn as students' are, from a secret made from ``seed``, so
    a failure can be drawn again with the same seed.

    Raises:
        SpecError: When a ``tests.toml`` is malformed.
    """
    from grader.variants import Variants

    pool = Variants(problems, f"selftest-{seed}", assignment)
    runs: dict[str, int] = {}
    failures: list[Failure] = []
    ids = [f"variant-{seed}-{i}" for i in range(variants)]
    for index, problem in enumerate(problems):
        tests = automatic_tests(problem) + load_tests(problem)
        cases: Iterable[tuple[str, Problem]] = [("homework", problem)]
        if problem.spec.variants:
            cases = [*cases, *((i, pool.for_student(i)[index]) for i in ids)]
        for label, own in cases:
            for test in tests:
                if label != "homework" and not test.variants:
                    continue
                runs[problem.id] = runs.get(problem.id, 0) + 1
                failures += [Failure(problem.id, label, own.spec.parameters, test.name, reason)
                             for reason in run_test(own, test)]
    return SelftestReport(runs, tuple(failures))
