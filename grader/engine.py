"""The grading engine: a submission's answers against every problem's solver.

Generic over problems: it reads each part by its kind, compares it with the
solver's answer, then with the answers the solver gives when a known mistake is
switched on, and with the answers it gives from the student's own earlier values
(error carried forward), and keeps the best-credited match.
"""

from __future__ import annotations

import functools
import json
from collections import Counter
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence, TypeVar

from grader import feedback
from grader.compare import matrix_size, read_answer, same_answer, same_expected
from grader.errors import GraderError, SolverError, SubmissionError, ValueReadError
from grader.problems import Answers, Problem
from grader.results import (
    BatchResult, Message, PartResult, ProblemResult, Status, SubmissionResult, SubmissionStatus, Verdict,
)
from grader.rubric import grade_essay
from grader.spec import AnswerKind, Check, PartSpec, PathSegment
from grader.submission import LoadedSubmission, SubmissionFolder, read_submission
from grader.text import closest, normalize_text
from grader.values import describe

if TYPE_CHECKING:
    from grader.variants import Variants

_ABSENT = object()
_T = TypeVar("_T")
MAX_WARNINGS = 20
"""Warnings kept per submission; the rest are counted."""


def grade_batch(submissions: Sequence[SubmissionFolder], problems: tuple[Problem, ...], *,
                answers_file: Path | None = None,
                progress: Callable[[SubmissionResult], None] | None = None) -> BatchResult:
    """Grade submissions one by one; one bad submission never stops the rest.

    Args:
        submissions: From :func:`grader.submission.find_submissions`.
        problems: The loaded problems.
        answers_file: A specific answers file to read (when one file was named).
        progress: Called with each finished result (for a progress bar).
    """
    results = []
    for submission in submissions:
        result = grade_folder(submission, problems, answers_file=answers_file)
        results.append(result)
        if progress is not None:
            progress(result)
    return make_batch(results, problems)


def make_batch(results: Iterable[SubmissionResult], problems: tuple[Problem, ...]) -> BatchResult:
    """A batch of results in student order, with the problems' maximum scores."""
    ordered = tuple(sorted(results, key=lambda r: r.student_id))
    return BatchResult(submissions=ordered, max_scores={p.id: p.spec.max_score for p in problems},
                       ungraded_problems=_ungraded_problems(ordered))


def grade_folder(submission: SubmissionFolder, problems: tuple[Problem, ...], *,
                 answers_file: Path | None = None, variants: Variants | None = None) -> SubmissionResult:
    """Read and grade one submission folder; an unreadable file becomes an ``error`` result.

    Args:
        submission: The folder.
        problems: The homework's problems.
        answers_file: A specific answers file to read (when one file was named).
        variants: When variants are on: the student's own problems come from here.
    """
    read = _read(submission, problems, answers_file, variants)
    if isinstance(read, SubmissionResult):
        return read
    loaded, own = read
    return _guarded(loaded, problems, lambda: grade_submission(loaded, own))


def grade_folders(submissions: Sequence[SubmissionFolder], problems: tuple[Problem, ...], *,
                  answers_file: Path | None = None, variants: Variants | None = None) -> list[SubmissionResult]:
    """:func:`grade_folder` of each submission, graded a problem at a time across them all.

    Grading one problem for a few students in a row keeps its rubric, solver and
    their data in the CPU's caches: 7-9% less time than student by student in
    alternating runs, with the same results (each problem's grade depends on its
    own table only).
    """
    read = [_read(submission, problems, answers_file, variants) for submission in submissions]
    results = [entry if isinstance(entry, SubmissionResult) else None for entry in read]
    graded: list[list[tuple[ProblemResult, list[Message]]]] = [[] for _ in read]
    for number in range(len(problems)):
        for at, entry in enumerate(read):
            if results[at] is None:
                loaded, own = entry
                problem = own[number]
                step = _guarded(loaded, problems, lambda: grade_problem(problem, loaded.data.get(problem.id, _ABSENT)))
                if isinstance(step, SubmissionResult):
                    results[at] = step  # the submission's error: its other problems are not graded
                else:
                    graded[at].append(step)
    for at, entry in enumerate(read):
        if results[at] is None:
            loaded, own = entry
            results[at] = _guarded(loaded, problems, lambda: _submission_result(loaded, own, graded[at]))
    return [result for result in results if result is not None]


def _read(submission: SubmissionFolder, problems: tuple[Problem, ...], answers_file: Path | None,
          variants: Variants | None) -> tuple[LoadedSubmission, tuple[Problem, ...]] | SubmissionResult:
    """A submission's answers and the student's own problems, or the ``error`` result of an unreadable file."""
    try:
        loaded = read_submission(submission, answers_file)
    except SubmissionError as error:
        return error_result(submission.student_id, answers_file, problems,
                            Message(str(error), f"پرونده پاسخ خوانده نشد: {error}"))
    try:
        return loaded, (problems if variants is None else variants.for_student(submission.student_id))
    except SolverError as error:
        return error_result(submission.student_id, loaded.source, problems, Message(
            f"your variant could not be made ({error}); please tell the course staff",
            f"نسخه شخصی مسئله‌های شما ساخته نشد ({error})؛ لطفاً به دستیاران آموزشی اطلاع دهید"))


def _guarded(loaded: LoadedSubmission, problems: tuple[Problem, ...], grade: Callable[[], _T]) -> _T | SubmissionResult:
    """``grade()``, or the ``error`` result it earns the submission when it fails."""
    try:
        return grade()
    except MemoryError:
        return error_result(loaded.student_id, loaded.source, problems, feedback.TOO_MUCH_MEMORY)
    except GraderError:
        raise  # the course's own files (a spec, a rubric) are at fault: every submission would fail alike
    except Exception as error:
        # Defence in depth: a grading bug on odd input costs this student a review, not the batch.
        return error_result(loaded.student_id, loaded.source, problems, Message(
            f"internal error while grading ({type(error).__name__}); please report this submission",
            "خطای داخلی هنگام نمره‌دهی؛ لطفاً این پاسخ را گزارش کنید"))


def error_result(student_id: str, source: Path | None, problems: tuple[Problem, ...],
                 error: Message) -> SubmissionResult:
    """A submission that could not be graded: every part scores zero with the reason (status error)."""
    results = tuple(
        ProblemResult(p.id, tuple(PartResult(p.id, part.id, Fraction(0), part.points, Status.ERROR, (error,))
                                  for part in p.spec.parts))
        for p in problems)
    return SubmissionResult(student_id, source, SubmissionStatus.ERROR, results, error=error)


def grade_submission(submission: LoadedSubmission, problems: tuple[Problem, ...]) -> SubmissionResult:
    """Grade a parsed submission against every problem."""
    graded = [grade_problem(problem, submission.data.get(problem.id, _ABSENT)) for problem in problems]
    return _submission_result(submission, problems, graded)


def _submission_result(submission: LoadedSubmission, problems: tuple[Problem, ...],
                       graded: list[tuple[ProblemResult, list[Message]]]) -> SubmissionResult:
    """A parsed submission's result, from each problem's result and warnings (:func:`grade_problem`)."""
    data = submission.data
    warnings: list[Message] = []
    student = data.get("student")
    if (isinstance(student, dict) and str(student.get("id", "")).strip()
            and str(student["id"]) != submission.student_id):
        warnings.append(feedback.id_mismatch(str(student["id"]), submission.student_id, submission.named_by))
    known = {p.id for p in problems}
    ungraded = tuple(sorted(key for key in data if key != "student" and key not in known))
    warnings.extend(feedback.ungraded_problem(key, closest(key, known)) for key in ungraded)
    results = []
    for result, problem_warnings in graded:
        results.append(result)
        warnings.extend(problem_warnings)
    unreadable = any(part.status is Status.INVALID for r in results for part in r.parts)
    if len(warnings) > MAX_WARNINGS:  # a file of 20,000 stray keys must not make a report cell unreadable
        warnings = warnings[:MAX_WARNINGS] + [feedback.more_warnings(len(warnings) - MAX_WARNINGS)]
    return SubmissionResult(
        student_id=submission.student_id,
        source=submission.source,
        status=SubmissionStatus.PARTIAL if unreadable else SubmissionStatus.GRADED,
        problems=tuple(results),
        warnings=tuple(warnings),
        ungraded_tables=ungraded,
    )


def grade_problem(problem: Problem, table: Any) -> tuple[ProblemResult, list[Message]]:
    """Grade one problem's table of answers (``_ABSENT`` when the student gave none).

    A class repeats answers (everyone who got Q3 right wrote the same
    numbers), so the result of a table of a problem without essays is kept
    and reused for the same table: grading is a function of the two.
    """
    key = _memo_key(problem, table)
    if key is None:
        return _grade_problem(problem, table)
    if key not in _MEMO:
        if len(_MEMO) >= MEMO_SIZE:
            del _MEMO[next(iter(_MEMO))]  # the oldest: a bounded memory, first in first out
        _MEMO[key] = _grade_problem(problem, table)
    result, warnings = _MEMO[key]
    return result, list(warnings)


MEMO_SIZE = 4096
"""Tables remembered per process by :func:`grade_problem`."""
_MEMO: dict[tuple[Problem, str], tuple[ProblemResult, list[Message]]] = {}
_MEMO_MAX_CHARS = 4096


def _memo_key(problem: Problem, table: Any) -> tuple[Problem, str] | None:
    """The memo key of a table: its canonical JSON, for problems without essays and tables of plain data."""
    if table is _ABSENT or any(part.kind is AnswerKind.TEXT for part in problem.spec.parts):
        return None  # essays are each their own; holding them would only cost memory
    try:
        text = json.dumps(table, ensure_ascii=False, allow_nan=True)  # key order kept: it orders warnings
    except (TypeError, ValueError, RecursionError):
        return None  # dates and other TOML values JSON cannot write are graded as they are
    return (problem, text) if len(text) <= _MEMO_MAX_CHARS else None


def _grade_problem(problem: Problem, table: Any) -> tuple[ProblemResult, list[Message]]:
    spec = problem.spec
    if table is not _ABSENT and not isinstance(table, dict):
        message = feedback.not_a_table(spec.id, describe(table))
        parts = tuple(PartResult(spec.id, part.id, Fraction(0), part.points, Status.INVALID, (message,))
                      for part in spec.parts)
        return ProblemResult(spec.id, parts), []
    table = {} if table is _ABSENT else table

    read: dict[str, Any] = {}
    problems_reading: dict[str, PartResult] = {}
    for part in spec.parts:
        raw = _lookup(table, part.answer)
        if raw is _ABSENT or _blank(raw):
            message = feedback.missing(part.answer_text) if raw is _ABSENT else feedback.blank(part.answer_text)
            problems_reading[part.id] = PartResult(spec.id, part.id, Fraction(0), part.points, Status.MISSING,
                                                   (message,))
            continue
        try:
            value = read_answer(part.kind, raw, problem.symbols)
            if part.kind is AnswerKind.MATRIX and part.check is Check.COMPARE:
                _check_matrix_size(value, problem.expected[part.answer_text])
            read[part.answer_text] = value
        except ValueReadError as error:
            problems_reading[part.id] = PartResult(spec.id, part.id, Fraction(0), part.points, Status.INVALID,
                                                   (feedback.invalid(part.answer_text, error.en, error.fa),))

    judged: dict[str, Verdict] = {}
    for part in spec.parts:
        if part.answer_text in read and (part.kind is AnswerKind.TEXT or part.check is Check.SOLVER):
            try:
                judged[part.id] = _judge(problem, part, read[part.answer_text], table)
            except ValueReadError as error:  # e.g. an unreadable value the check also reads
                del read[part.answer_text]
                problems_reading[part.id] = PartResult(spec.id, part.id, Fraction(0), part.points, Status.INVALID,
                                                       (feedback.invalid(part.answer_text, error.en, error.fa),))
    correct = {part.answer_text for part in spec.parts if part.answer_text in read and part.id not in judged
               and same_answer(part.kind, read[part.answer_text], problem.expected[part.answer_text], part.tolerance)}
    contradicted = _contradicted_mistakes(problem, frozenset(p.id for p in spec.parts if p.answer_text in correct))
    wrong = [part for part in spec.parts
             if part.answer_text in read and part.answer_text not in correct and part.id not in judged]
    # Solving again from the student's own values only helps explain wrong answers: none, no solving.
    carried = problem.solve(given=read) if wrong else {}
    carried_mistaken = {m: problem.solve(mistakes=frozenset({m}), given=read) for m in problem.mistaken} if wrong else {}
    candidates = {part.id: _candidates(problem, part, read[part.answer_text], carried, carried_mistaken)
                  for part in wrong}
    # How many parts each diagnosis explains: on equal credit the more consistent explanation wins.
    support = Counter(match.diagnosis for found in candidates.values() for match in found)
    parts = []
    for part in spec.parts:
        if part.id in problems_reading:
            parts.append(problems_reading[part.id])
        elif part.id in judged:
            # The essay as matched (the rubric has just normalised it: cached), for the similarity report.
            text = normalize_text(read[part.answer_text]) if part.kind is AnswerKind.TEXT else None
            parts.append(_part_result(spec.id, part, judged[part.id], text))
        elif part.answer_text in correct:
            parts.append(_part_result(spec.id, part, _RIGHT))
        else:
            plausible = [c for c in candidates[part.id] if c.diagnosis not in contradicted] or candidates[part.id]
            best = max(plausible, key=lambda c: (c.credit, support[c.diagnosis]), default=None)
            parts.append(_part_result(spec.id, part, best))
    return ProblemResult(spec.id, tuple(parts)), _unknown_keys(spec.id, table, spec.parts)


def _judge(problem: Problem, part: PartSpec, value: Any, table: dict[str, Any]) -> Verdict:
    """The verdict of a rubric (essays) or of the solver's ``verify`` (answers with many right forms)."""
    if part.kind is AnswerKind.TEXT:
        assert part.rubric is not None  # the spec loader requires one for text parts
        return grade_essay(part.rubric, value, part.points)
    verdict = problem.verify(part.answer_text, value, table)
    return verdict if verdict is not None else Verdict(Fraction(0), (feedback.WRONG,) + ((part.hint,) if part.hint else ()))


@functools.lru_cache(maxsize=4096)  # a function of the problem and which parts are right: a class repeats those
def _contradicted_mistakes(problem: Problem, correct_ids: frozenset[str]) -> frozenset[str]:
    """Mistake switches the student's correct answers (the parts ``correct_ids``) rule out.

    A mistake that would have changed an answer the student got right was not
    made throughout; when another explanation fits a wrong part, it is preferred.
    """
    correct = [part for part in problem.spec.parts if part.id in correct_ids]
    return frozenset(
        mistake for mistake, answers in problem.mistaken.items()
        if any(part.answer_text in answers
               and not same_expected(part.kind, answers[part.answer_text], problem.expected[part.answer_text],
                                     part.tolerance)
               for part in correct))


def _candidates(problem: Problem, part: PartSpec, value: Any, carried: Answers,
                carried_mistaken: Mapping[str, Answers]) -> list[Verdict]:
    """Every explanation of a wrong ``value`` with the credit it earns.

    Candidates are the spec's mistakes (solved by the solver, or diagnosed by
    the engine) and the answers solved from the student's own earlier values.
    The caller prefers those the student's other answers do not rule out, then
    the highest credit, then the diagnosis that explains the most parts.
    """
    spec = problem.spec
    path = part.answer_text

    def equals(answers: Answers) -> bool:
        return path in answers and same_answer(part.kind, value, answers[path], part.tolerance)

    candidates: list[Verdict] = []
    if (path in carried and equals(carried)
            and not same_expected(part.kind, carried[path], problem.expected[path], part.tolerance)):
        candidates.append(Verdict(spec.carried_forward_credit, (feedback.CARRIED_FORWARD,), "carried_forward"))
    if part.kind is AnswerKind.FORMULA:
        candidates.extend(_formula_matches(problem, part.id, value))
    for mistake_id in problem.mistaken:
        mistake = spec.mistakes[mistake_id]
        if equals(problem.mistaken[mistake_id]):
            candidates.append(Verdict(mistake.credit, (mistake.message,), mistake_id))
        elif equals(carried_mistaken.get(mistake_id, {})):
            candidates.append(Verdict(mistake.credit * spec.carried_forward_credit,
                                     (feedback.with_carried_forward(mistake.message),), mistake_id))
    return candidates


@functools.lru_cache(maxsize=4096)  # a class writes the same formulas: each is diagnosed once per process
def _formula_matches(problem: Problem, part_id: str, value: Any) -> tuple[Verdict, ...]:
    """The engine's own diagnoses of a wrong formula (a formula tree), for those the spec gives credit."""
    from grader.formulas.equivalence import Formula, Match, compare, diagnose_terms

    part = next(p for p in problem.spec.parts if p.id == part_id)
    mistakes = problem.spec.mistakes
    expected = problem.expected[part.answer_text]
    found: list[Verdict] = []
    if not isinstance(expected, Formula):  # offline (student bundle): only the hashed diagnoses
        return ()

    def match(mistake_id: str, **fill: str) -> Verdict:
        mistake = mistakes[mistake_id]
        message = Message(*(_fill(text, fill) for text in (mistake.message.en, mistake.message.fa)))
        return Verdict(mistake.credit, (message,), mistake_id)

    if "number_only" in mistakes and compare(value, expected) is Match.NUMBER_ONLY:
        found.append(match("number_only"))
    if "mislabelled" in mistakes:
        for other in problem.spec.parts:
            if (other.kind is AnswerKind.FORMULA and other.id != part.id
                    and compare(value, problem.expected[other.answer_text]) is Match.EQUAL):
                found.append(match("mislabelled", other=other.answer_text))
                break
    report = diagnose_terms(value, expected)
    if report is not None and report.diagnosis.value in mistakes:
        found.append(match(report.diagnosis.value, terms=", ".join(report.terms)))
    return tuple(found)


def _fill(template: str, values: Mapping[str, str]) -> str:
    """Fill ``{name}`` placeholders of a spec message (plain replace: spec text may hold other braces)."""
    for name, value in values.items():
        template = template.replace("{" + name + "}", value)
    return template


def _check_matrix_size(value: Any, expected: Any) -> None:
    """A matrix of the wrong size cannot be compared entry by entry: it is invalid, with the expected size."""
    got, want = matrix_size(value), matrix_size(expected)
    if got != want:
        raise ValueReadError(f"expected a {want[0]}×{want[1]} matrix, got {got[0]}×{got[1]}",
                             f"ماتریسی {want[0]}×{want[1]} انتظار می‌رفت، اما {got[0]}×{got[1]} داده شده است")


_RIGHT = Verdict(Fraction(1), (feedback.CORRECT,), None)
"""The verdict of an answer equal to the expected one (most answers of a class: made once)."""


def _part_result(problem_id: str, part: PartSpec, match: Verdict | None, text: str | None = None) -> PartResult:
    if match is None:
        messages = (feedback.WRONG,) + ((part.hint,) if part.hint else ())
        return PartResult(problem_id, part.id, Fraction(0), part.points, Status.WRONG, messages)
    full = match.credit == 1
    if match.review:
        status = Status.NEEDS_REVIEW
    elif full:
        status = Status.CORRECT
    elif match.credit > 0:
        status = Status.PARTIAL
    else:
        status = Status.WRONG
    return PartResult(problem_id, part.id, part.points if full else match.credit * part.points, part.points, status,
                      match.messages, match.diagnosis, text)


def _blank(raw: Any) -> bool:
    """Whether a value is left blank as the answer template has it: ``""``, or a list of blanks."""
    if isinstance(raw, str):
        return not raw.strip()
    return isinstance(raw, list) and bool(raw) and len(raw) <= 64 and all(_blank(item) for item in raw)


def _lookup(table: Any, path: tuple[PathSegment, ...]) -> Any:
    node = table
    for segment in path:
        if isinstance(segment, int):
            if not isinstance(node, list) or segment >= len(node):
                return _ABSENT
        elif not isinstance(node, dict) or segment not in node:
            return _ABSENT
        node = node[segment]
    return node


def _unknown_keys(problem_id: str, table: dict[str, Any], parts: Iterable[PartSpec]) -> list[Message]:
    """Warnings for keys no part reads, and for lists longer than the parts grade."""
    known: dict[Any, Any] = {}
    for path in (path for part in parts for path in (part.answer, *part.reads)):
        node = known
        for segment in path:
            key: Any = segment if isinstance(segment, str) else int
            node = node.setdefault(key, {})
            if key is int:
                node.setdefault("__length__", 0)
                node["__length__"] = max(node["__length__"], segment + 1)
    warnings: list[Message] = []

    def walk(value: Any, shape: dict[Any, Any], where: str) -> None:
        if isinstance(value, dict) and shape and int not in shape:
            names = [k for k in shape if isinstance(k, str)]
            for key in sorted(value):
                if key in shape:
                    walk(value[key], shape[key], f"{where}.{key}")
                else:
                    warnings.append(feedback.unknown_key(f"{where}.{key}", closest(key, names)))
        elif isinstance(value, list) and int in shape:
            graded = shape[int]["__length__"]
            if len(value) > graded:
                warnings.append(feedback.extra_items(where, len(value), graded))
            for index, item in enumerate(value[:graded]):
                walk(item, shape[int], f"{where}[{index}]")

    walk(table, known, problem_id)
    return warnings


def _ungraded_problems(results: Iterable[SubmissionResult]) -> tuple[str, ...]:
    """Top-level tables some submission holds that no problem folder grades (e.g. problems to come)."""
    return tuple(sorted({table for result in results for table in result.ungraded_tables}))
