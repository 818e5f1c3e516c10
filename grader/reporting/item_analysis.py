"""Item analysis and class statistics: the numbers behind the instructor reports.

Every function here is a plain function of a :class:`~grader.results.BatchResult`;
the writers (``excel.py``, ``html_report.py``) only lay the numbers out.

Who is counted
    Item statistics and the class totals use the students whose answers file
    was read: submission status ``graded`` or ``partial``. A roster student
    without a submission (``missing``) has no result at all, and an unreadable
    file (``error``) scores zero on every part without telling anything about
    the parts, so both are left out (they are still counted in
    :class:`ClassSummary`'s ``missing`` and ``errors``). Within a counted
    submission every part result counts, including a part the student left
    out (status ``missing``, zero points) or that awaits review (its
    machine score is used).

Discrimination
    *Upper-lower index*: students are ranked by their assignment total; the
    upper and lower groups are the top and bottom 27% (``round(0.27 * n)``,
    at least one student each, rounding half up). The index is the share of
    the upper group with the part ``correct`` minus that share in the lower
    group, from -1 to 1. Ties on the group boundary are broken by student id
    (deterministic, not meaningful).
    *Point-biserial*: the Pearson correlation of the part's points with the
    rest of the total (total minus this part), so that the part does not
    correlate with itself. For a part scored 0 or full it is the classical
    point-biserial; for partial credit it is the item-rest correlation.

    Both are ``None`` when they are undefined: fewer than two students, every
    total equal (upper-lower: the groups would be arbitrary), or zero variance
    of the part's points or of the rest totals (point-biserial). ``None`` is
    used rather than NaN so that it cannot leak into arithmetic or sorting.

Mistakes
    The diagnoses on a part (``PartResult.diagnosis``), counted over students,
    whatever the part's status (a rubric may name missing concepts on a part
    that still earned full credit). Two diagnoses are not mistakes in this
    part and are listed separately: ``carried_forward`` (correct given the
    student's own earlier wrong value) and ``overridden`` (the instructor set
    the score by hand).
"""

from __future__ import annotations

import math
import operator
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from grader.results import BatchResult, PartResult, Status, SubmissionResult, SubmissionStatus

CARRIED_FORWARD = "carried_forward"
OVERRIDDEN = "overridden"
NOT_MISTAKES = frozenset({CARRIED_FORWARD, OVERRIDDEN})
GROUP_SHARE = Fraction(27, 100)
COUNTED_STATUSES = frozenset({SubmissionStatus.GRADED, SubmissionStatus.PARTIAL})


@dataclass(frozen=True)
class MistakeCount:
    """How many students a diagnosis was given to, on one part.

    Attributes:
        diagnosis: The recognised mistake's id, e.g. ``no_bias``.
        count: Number of students (each has at most one result per part).
        student_ids: Those students, sorted.
    """

    diagnosis: str
    count: int
    student_ids: tuple[str, ...]


@dataclass(frozen=True)
class PartStats:
    """Item statistics of one part over the counted students.

    Attributes:
        problem: Problem id, e.g. ``q3``.
        part: Part id, e.g. ``layer1.params``.
        max_score: Points possible.
        n: Students counted (see the module docstring).
        mean_score: Mean points; ``None`` when ``n`` is 0.
        share_correct: Share of students with status ``correct``; ``None`` when ``n`` is 0.
        difficulty: Difficulty index, mean points / points possible (1 is easy);
            ``None`` when ``n`` is 0 or the part is worth nothing.
        upper_lower: Upper-lower discrimination index (-1 to 1), or ``None`` when undefined.
        point_biserial: Correlation of the part's points with the rest of the total, or ``None``.
        mistakes: Diagnoses other than carried_forward/overridden, most frequent first
            (ties by diagnosis id).
        carried_forward: Students whose part was marked ``carried_forward``, sorted.
        overridden: Students whose part score the instructor overrode, sorted.
    """

    problem: str
    part: str
    max_score: Fraction
    n: int
    mean_score: Fraction | None
    share_correct: Fraction | None
    difficulty: Fraction | None
    upper_lower: Fraction | None
    point_biserial: float | None
    mistakes: tuple[MistakeCount, ...] = ()
    carried_forward: tuple[str, ...] = ()
    overridden: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProblemMistake:
    """How often a diagnosis was given within one problem (the report's mistake chart).

    Attributes:
        problem: Problem id.
        diagnosis: The recognised mistake's id.
        student_ids: Students given it on at least one part of the problem, sorted.
        occurrences: Part results carrying it (one student may carry it on many parts).
    """

    problem: str
    diagnosis: str
    student_ids: tuple[str, ...]
    occurrences: int

    @property
    def count(self) -> int:
        """Number of students."""
        return len(self.student_ids)


@dataclass(frozen=True)
class ClassSummary:
    """The class at a glance.

    Attributes:
        students: Rows in the batch (submissions plus roster students without one).
        graded: Submissions graded in full.
        partial: Submissions with some part that could not be read.
        errors: Submissions whose file could not be read.
        missing: Roster students without a submission.
        max_total: Points possible.
        mean_total: Mean total of the counted students (graded or partial); ``None`` if none.
        median_total: Their median total.
        min_total: Their lowest total.
        max_total_scored: Their highest total.
        problem_means: ``(problem, mean points)`` of the counted students, in the batch's problem order.
        problem_max: ``(problem, points possible)``, in the same order.
        review_parts: Part results with status ``needs_review`` (all students).
        review_students: Students with at least one such part.
    """

    students: int
    graded: int
    partial: int
    errors: int
    missing: int
    max_total: Fraction
    mean_total: Fraction | None
    median_total: Fraction | None
    min_total: Fraction | None
    max_total_scored: Fraction | None
    problem_means: tuple[tuple[str, Fraction | None], ...]
    problem_max: tuple[tuple[str, Fraction], ...]
    review_parts: int
    review_students: int

    @property
    def counted(self) -> int:
        """Students whose answers file was read (graded or partial)."""
        return self.graded + self.partial


@dataclass(frozen=True)
class ReviewItem:
    """One part awaiting a person's review."""

    student_id: str
    part: PartResult


def counted_submissions(batch: BatchResult) -> tuple[SubmissionResult, ...]:
    """The submissions whose answers file was read (graded or partial), sorted by student id."""
    return tuple(sorted((r for r in batch.submissions if r.status in COUNTED_STATUSES),
                        key=lambda r: r.student_id))


def _scaled(values: Sequence[Fraction]) -> tuple[list[int], int]:
    """The values as integers over their least common denominator, and that denominator.

    Sums, products and comparisons of these integers are exact, as those of the fractions are, at a
    small part of the cost (a fraction's arithmetic reduces every result): a class of 10,000 has
    hundreds of thousands of scores.
    """
    denominator = math.lcm(*{value.denominator for value in values})
    return [value.numerator * (denominator // value.denominator) for value in values], denominator


def _mean(values: list[Fraction]) -> Fraction | None:
    if not values:
        return None
    scaled, denominator = _scaled(values)
    return Fraction(sum(scaled), denominator * len(values))


def _median(values: list[Fraction]) -> Fraction | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def group_size(n: int) -> int:
    """Size of the upper and lower groups for ``n`` students: 27%, rounded half up, at least 1."""
    return max(1, math.floor(GROUP_SHARE * n + Fraction(1, 2)))


def upper_lower_index(rows: list[tuple[str, Fraction | int, bool]]) -> Fraction | None:
    """Share correct in the top 27% by total minus that in the bottom 27%.

    Args:
        rows: ``(student_id, total, correct)`` per student (the totals as fractions, or, compared faster, as
            integers over one denominator: :func:`item_analysis` passes those).

    Returns:
        The index, or ``None`` for fewer than two students or when every total is equal.
    """
    if len(rows) < 2 or len({total for _, total, _ in rows}) == 1:
        return None
    ranked = sorted(rows, key=lambda row: (row[1], row[0]))
    k = group_size(len(rows))
    lower, upper = ranked[:k], ranked[-k:]
    return Fraction(sum(correct for *_, correct in upper) - sum(correct for *_, correct in lower), k)


def correlation(xs: list[Fraction], ys: list[Fraction]) -> float | None:
    """Pearson correlation, computed exactly and rounded once; ``None`` if undefined.

    Undefined means fewer than two pairs or zero variance in either list.
    """
    if len(xs) < 2 or len(xs) != len(ys):
        return None
    return _pearson(_scaled(xs)[0], _scaled(ys)[0])


def _pearson(xs: list[int], ys: list[int]) -> float | None:
    """:func:`correlation` of two lists of at least two integers each (any fractions, scaled: see below)."""
    # With x = X / D, n * sum((x - mean_x) * (y - mean_y)) * D**2 is the integer n * sum(X * Y) - sum(X) * sum(Y),
    # and likewise the variances: the ratio below is the fractions' own, whatever each list's D, and int / int
    # rounds it to the nearest float, as a Fraction's float() does.
    n = len(xs)
    sum_x, sum_y = sum(xs), sum(ys)
    cov = n * sum(map(operator.mul, xs, ys)) - sum_x * sum_y
    var_x = n * sum(map(operator.mul, xs, xs)) - sum_x * sum_x
    var_y = n * sum(map(operator.mul, ys, ys)) - sum_y * sum_y
    if var_x == 0 or var_y == 0:
        return None
    r = math.copysign(math.sqrt(cov * cov / (var_x * var_y)), cov)
    return max(-1.0, min(1.0, r))


def _mistake_counts(ids_by_diagnosis: dict[str, list[str]]) -> tuple[MistakeCount, ...]:
    counts = [MistakeCount(d, len(ids), tuple(sorted(ids))) for d, ids in ids_by_diagnosis.items()]
    return tuple(sorted(counts, key=lambda m: (-m.count, m.diagnosis)))


def item_analysis(batch: BatchResult) -> tuple[PartStats, ...]:
    """Statistics of every part, sorted by problem, then part.

    Every part that appears in any submission is listed, even when no
    counted student has it (then ``n`` is 0 and the statistics are ``None``).
    """
    part_keys: dict[tuple[str, str], Fraction] = {}
    for result in batch.submissions:
        for part in result.parts:
            key = (part.problem, part.part)
            known = part_keys.get(key)
            if known is None or (part.max_score is not known and part.max_score > known):  # most are one object
                part_keys[key] = part.max_score
    # Every total and score as an integer over one denominator (see _scaled): the sums below are exact.
    counted = counted_submissions(batch)
    denominator = math.lcm(*{r.total.denominator for r in counted},
                           *{part.score.denominator for r in counted for part in r.parts})
    rows: dict[tuple[str, str], list[tuple[str, int, PartResult]]] = defaultdict(list)
    for result in counted:
        total = result.total.numerator * (denominator // result.total.denominator)
        for part in result.parts:
            rows[(part.problem, part.part)].append((result.student_id, total, part))
    stats = []
    for key in sorted(part_keys):
        max_score = part_keys[key]
        entries = rows.get(key, [])
        scores = [part.score.numerator * (denominator // part.score.denominator) for _, _, part in entries]
        n = len(entries)
        mean = Fraction(sum(scores), denominator * n) if n else None
        mistakes: dict[str, list[str]] = defaultdict(list)
        special: dict[str, list[str]] = defaultdict(list)
        for student_id, _, part in entries:
            if part.diagnosis in NOT_MISTAKES:
                special[part.diagnosis].append(student_id)
            elif part.diagnosis:
                mistakes[part.diagnosis].append(student_id)
        stats.append(PartStats(
            problem=key[0],
            part=key[1],
            max_score=max_score,
            n=n,
            mean_score=mean,
            share_correct=Fraction(sum(p.status is Status.CORRECT for _, _, p in entries), n) if n else None,
            difficulty=mean / max_score if mean is not None and max_score else None,
            upper_lower=upper_lower_index([(sid, total, p.status is Status.CORRECT) for sid, total, p in entries]),
            point_biserial=_pearson(scores, [total - score for (_, total, _), score in zip(entries, scores)])
            if n >= 2 else None,
            mistakes=_mistake_counts(mistakes),
            carried_forward=tuple(sorted(special[CARRIED_FORWARD])),
            overridden=tuple(sorted(special[OVERRIDDEN])),
        ))
    return tuple(stats)


def mistake_frequencies(batch: BatchResult) -> tuple[ProblemMistake, ...]:
    """Diagnoses per problem over the counted students, most students first.

    ``carried_forward`` and ``overridden`` are not mistakes and are left out.
    Ties are sorted by problem, then diagnosis.
    """
    students: dict[tuple[str, str], set[str]] = defaultdict(set)
    occurrences: dict[tuple[str, str], int] = defaultdict(int)
    for result in counted_submissions(batch):
        for part in result.parts:
            if part.diagnosis and part.diagnosis not in NOT_MISTAKES:
                students[(part.problem, part.diagnosis)].add(result.student_id)
                occurrences[(part.problem, part.diagnosis)] += 1
    found = [ProblemMistake(problem, diagnosis, tuple(sorted(ids)), occurrences[(problem, diagnosis)])
             for (problem, diagnosis), ids in students.items()]
    return tuple(sorted(found, key=lambda m: (-m.count, m.problem, m.diagnosis)))


def review_queue(batch: BatchResult) -> tuple[ReviewItem, ...]:
    """Every part with status ``needs_review``, sorted by student, problem, part."""
    items = [ReviewItem(result.student_id, part) for result in batch.submissions for part in result.parts
             if part.status is Status.NEEDS_REVIEW]
    return tuple(sorted(items, key=lambda i: (i.student_id, i.part.problem, i.part.part)))


def class_summary(batch: BatchResult) -> ClassSummary:
    """Counts by status, the counted students' totals and problem means, and the review queue's size."""
    by_status = {status: sum(r.status is status for r in batch.submissions) for status in SubmissionStatus}
    counted = counted_submissions(batch)
    totals = [r.total for r in counted]
    problem_scores: dict[str, list[Fraction]] = defaultdict(list)
    for result in counted:
        for problem in result.problems:
            problem_scores[problem.problem].append(problem.score)
    queue = review_queue(batch)
    return ClassSummary(
        students=len(batch.submissions),
        graded=by_status[SubmissionStatus.GRADED],
        partial=by_status[SubmissionStatus.PARTIAL],
        errors=by_status[SubmissionStatus.ERROR],
        missing=by_status[SubmissionStatus.MISSING],
        max_total=batch.max_total,
        mean_total=_mean(totals),
        median_total=_median(totals),
        min_total=min(totals) if totals else None,
        max_total_scored=max(totals) if totals else None,
        problem_means=tuple((pid, _mean(problem_scores.get(pid, []))) for pid in batch.max_scores),
        problem_max=tuple(batch.max_scores.items()),
        review_parts=len(queue),
        review_students=len({item.student_id for item in queue}),
    )
