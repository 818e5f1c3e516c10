"""A class graded end to end: the plain function behind ``grade run``.

Grading, then the instructor's overrides, then the roster, then each report
writer: every step is a plain function over the results, so the CLI stays thin.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Mapping, TextIO

from grader.cache import CACHE_FILE, RUN_FILE, ResultCache, SubmissionKeys, fingerprint, read_run, run_key, write_run
from grader.course import Course, Reveal
from grader.report_formats import DEFAULT_FORMATS, Format
from grader.engine import grade_folder, make_batch
from grader.heap import keep, long_lived
from grader.isolation import Limits, grade_isolated
from grader.overrides import apply_overrides, load_overrides
from grader.problems import Problem
from grader.reporting.console import summary_line
from grader.results import BatchResult, Lang, SubmissionResult
from grader.roster import Roster, join_roster
from grader.submission import SubmissionFolder
from grader.variants import Variants, variant_seed, variants_for


@dataclass(frozen=True)
class RunOptions:
    """Everything a class run needs besides the submissions.

    Attributes:
        out: Folder the reports are written to.
        course: Course settings (assignment name, reveal policy).
        lang: Language of feedback in every report.
        roster: The class list, if given.
        overrides: The instructor's overrides file, if any.
        similarity_exclude: Student ids left out of the similarity report.
        formats: Which report files to write.
        problems_dir: Where the problems were loaded from (workers load them again).
        workers: Worker processes; 0 grades in this process, without limits.
        limits: Time and memory per submission, in workers.
        use_cache: Whether to reuse the results of earlier runs on unchanged input.
    """

    out: Path
    course: Course
    lang: Lang
    roster: Roster | None = None
    overrides: Path | None = None
    similarity_exclude: tuple[str, ...] = ()
    formats: tuple[Format, ...] = DEFAULT_FORMATS
    problems_dir: Path = Path("problems")
    workers: int = 0
    limits: Limits = Limits()
    use_cache: bool = False


@dataclass(frozen=True)
class RunResult:
    """What a class run produced.

    Attributes:
        written: The reports written (or, for a run skipped as unchanged, the ones already there).
        warnings: Warnings for the instructor (overrides).
        summary: The one-line summary of the grades.
        ungraded_problems: Tables no problem folder grades.
        reused: True when nothing had changed since the last run into ``--out``, so nothing was done.
    """

    written: tuple[Path, ...]
    warnings: tuple[str, ...]
    summary: str
    ungraded_problems: tuple[str, ...]
    load_batch: Callable[[], BatchResult] = field(repr=False, compare=False)
    reused: bool = False

    @functools.cached_property
    def batch(self) -> BatchResult:
        """The graded class (read back from the result cache when the run was skipped)."""
        return self.load_batch()


def run_class(submissions: tuple[SubmissionFolder, ...], problems: tuple[Problem, ...] | Callable[[], tuple[Problem, ...]],
              options: RunOptions, *, answers_file: Path | None = None,
              progress: Callable[[SubmissionResult], None] | None = None) -> RunResult:
    """Grade a class and write its reports; with the cache on, skip it all when nothing has changed.

    Args:
        submissions: The class.
        problems: The problems, or a function that loads them: a run skipped as
            unchanged never calls it (SymPy and the solvers are not even loaded).
        options: The run's options.
        answers_file: A specific answers file to read (when one file was named).
        progress: Called with each result.

    Raises:
        GraderError: When the overrides file is malformed.
    """
    with long_lived():  # the class's results, kept to the end, are set aside from the garbage collector
        return _run_class(submissions, problems, options, answers_file, progress)


def _run_class(submissions: tuple[SubmissionFolder, ...],
               problems: tuple[Problem, ...] | Callable[[], tuple[Problem, ...]], options: RunOptions,
               answers_file: Path | None, progress: Callable[[SubmissionResult], None] | None) -> RunResult:
    load = problems if callable(problems) else (lambda: problems)
    keys = _cache_keys(options, answers_file) if options.use_cache else None
    # Without an earlier run's record there is nothing to match: each key is made as its submission is sent.
    if keys is not None and (options.out / RUN_FILE).is_file():
        record = read_run(options.out, _run_key(keys, submissions, options, answers_file))
        if record is not None:
            return RunResult(tuple(options.out / name for name in record.files), record.warnings, record.summary,
                             record.ungraded_problems,
                             lambda: _final_batch(submissions, load(), options, answers_file, None, keys)[0],
                             reused=True)
    loaded = load()
    batch, warnings = _final_batch(submissions, loaded, options, answers_file, progress, keys)
    written = _write_reports(batch, loaded, options)
    summary = summary_line(batch)
    if keys is not None:
        write_run(options.out, _run_key(keys, submissions, options, answers_file), summary, batch.ungraded_problems,
                  tuple(warnings), tuple(written))
    return RunResult(tuple(written), tuple(warnings), summary, batch.ungraded_problems, lambda: batch)


def _write_reports(batch: BatchResult, problems: tuple[Problem, ...], options: RunOptions) -> list[Path]:
    """Write every report ``options.formats`` asks for; returns the files written."""
    # The writers bring numpy, pandas, XlsxWriter and matplotlib: imported only when reports are written,
    # those of the whole-class reports by the process that writes each (see _class_reports).
    from grader.forked import share_in_forks
    from grader.reporting.feedback_files import feedback_paths, write_feedback_files
    from grader.reporting.student_view import student_view

    expected = _expected_answers(problems, options.course)
    written: list[Path] = []

    def write_similarity() -> None:
        from grader.reporting.files import write_similarity_report
        from grader.similarity import similar_essays

        write_similarity_report(options.out, similar_essays(batch, exclude=options.similarity_exclude))

    reports = _class_reports(batch, options)
    jobs = [report.write for report in reports]
    if Format.CSV in options.formats:  # seconds for a large class: only report.xlsx, when asked for, takes longer
        jobs.insert(1 if Format.XLSX in options.formats else 0, write_similarity)
    feedback_written: Callable[[], None] = lambda: None
    if Format.FEEDBACK in options.formats:
        def write_feedback(start: int, stop: int) -> None:
            views = (student_view(r, problems, options.course.reveal, options.lang, expected(r.student_id))
                     for r in batch.submissions[start:stop])  # one at a time: views need not be held at once
            write_feedback_files(views, options.out / "feedback", options.course.assignment, options.lang)

        # Written in other processes (a file per student adds up) while this one writes the CSV files,
        # then by this one too, until every student's are written. The whole-class reports go first, each
        # to whichever process comes to it: the first forked one starts at once on the longest (the similar
        # essays, or report.xlsx: 20 s for 10,000 students), this one after the CSV files. Done in this one
        # alone, they would leave the others' CPU idle at the end.
        _sum_scores(batch)
        feedback_written = share_in_forks(write_feedback, len(batch.submissions),
                                          _report_processes(options, len(batch.submissions)),
                                          first=jobs[0] if jobs else None, jobs=jobs[1:])
        jobs = []  # the writers'
    from grader.reporting.files import SIMILARITY_FILE, write_score_reports

    if Format.CSV in options.formats:
        written += [*write_score_reports(batch, options.out, options.lang), options.out / SIMILARITY_FILE]
    if Format.FEEDBACK in options.formats:
        written += [path for r in batch.submissions for path in feedback_paths(r.student_id, options.out / "feedback")]
    for job in jobs:
        job()
    written += [path for report in reports for path in report.files]
    # Joined last: this process then writes the reports and feedback files the forked writers have not taken.
    feedback_written()
    return written


@dataclass(frozen=True)
class _ClassReport:
    """A report of the whole class but the CSV files and the feedback files: what it writes, and how."""

    files: tuple[Path, ...]
    write: Callable[[], None]


def _class_reports(batch: BatchResult, options: RunOptions) -> list[_ClassReport]:
    """The reports of ``options.formats`` but the CSV and feedback files, the longest to write first."""
    from grader.reporting.files import write_atomic, write_atomic_with
    from grader.safe_names import safe_file_name

    out, formats = options.out, options.formats
    reports: list[_ClassReport] = []
    if Format.XLSX in formats:
        def write_xlsx() -> None:
            from grader.reporting.excel import write_xlsx

            write_xlsx(out / "report.xlsx", batch, options.course, options.roster, options.lang)

        reports.append(_ClassReport((out / "report.xlsx",), write_xlsx))
    if Format.HTML in formats:
        def write_html() -> None:
            from grader.reporting.html_report import write_html

            write_html(out / "report.html", batch, options.course, options.roster, options.lang)

        reports.append(_ClassReport((out / "report.html",), write_html))
    if Format.GRADESCOPE in formats:
        gradescope = tuple(out / "gradescope" / f"{safe_file_name(r.student_id)}.json" for r in batch.submissions)

        def write_gradescope() -> None:
            from grader.reporting.gradescope import gradescope_results

            for result, path in zip(batch.submissions, gradescope):
                data = gradescope_results(result, batch.max_scores, options.lang, reveal=options.course.reveal)
                write_atomic(path, json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n")

        reports.append(_ClassReport(gradescope, write_gradescope))
    reports += [_ClassReport((out / name,), functools.partial(write_atomic_with, out / name, write))
                for fmt, name, write in _lms_files(batch, options) if fmt in formats]
    return reports


def _sum_scores(batch: BatchResult) -> None:
    """Work out each result's total and its problems' scores and maxima now (each is kept on its result).

    Every report reads them: summed before the feedback writers fork, they are summed once, not once in
    each process. Results are summed as they arrive (:func:`_summed`): here the sums are found made, but
    those of results the overrides or the roster made since.
    """
    for result in batch.submissions:
        _summed(result)


def _summed(result: SubmissionResult) -> SubmissionResult:
    """``result``, its total and its problems' scores and maxima worked out (and kept on it)."""
    for problem in result.problems:
        _ = problem.score, problem.max_score
    _ = result.total
    return result


KEEP_EVERY = 256
"""Results after which those so far are set aside from the garbage collector (:mod:`grader.heap`)."""
FORK_FROM = 200
"""Smallest class whose feedback files are written in other processes (forking costs a few ms)."""


def _report_processes(options: RunOptions, students: int) -> int:
    """How many processes beside this one write the per-student reports (0: this one does).

    One CPU is left to this process, which writes the class-wide reports meanwhile.
    """
    return max(options.workers - 1, 1) if options.workers > 1 and students >= FORK_FROM else 0


def _final_batch(submissions: tuple[SubmissionFolder, ...], problems: tuple[Problem, ...], options: RunOptions,
                 answers_file: Path | None, progress: Callable[[SubmissionResult], None] | None,
                 keys: SubmissionKeys | None) -> tuple[BatchResult, list[str]]:
    """The graded class with the instructor's overrides and the roster applied, and the overrides' warnings."""
    batch = grade_class(submissions, problems, options, answers_file=answers_file, progress=progress, keys=keys)
    warnings: list[str] = []
    if options.overrides is not None:
        batch, override_warnings = apply_overrides(batch, load_overrides(options.overrides))
        warnings += override_warnings
    if options.roster is not None:
        batch = join_roster(batch, options.roster)
    return batch, warnings


def _cache_keys(options: RunOptions, answers_file: Path | None) -> SubmissionKeys:
    return SubmissionKeys(fingerprint(options.problems_dir, variant_seed(options.course)), answers_file)


def _run_key(keys: SubmissionKeys, submissions: tuple[SubmissionFolder, ...], options: RunOptions,
             answers_file: Path | None) -> str:
    """Digest of everything a class run reads: code, problems, variant settings, answers, options and their files."""
    settings = repr((replace(options, out=Path("."), workers=0), str(answers_file)))  # not where, nor how many workers
    return run_key(keys.code, [keys(s) for s in submissions], settings, (options.overrides,))


def _expected_answers(problems: tuple[Problem, ...], course: Course
                      ) -> Callable[[str], Mapping[tuple[str, str], str | None]]:
    """Each student's expected answers as feedback shows them: their own variant's, and only when revealed."""
    from grader.reporting.student_view import expected_answers

    if course.reveal < Reveal.ANSWER:
        return lambda student_id: {}  # formatted only when students may see them
    variants = variants_for(course, problems)
    if variants is None:
        shared = expected_answers(problems)
        return lambda student_id: shared
    return lambda student_id: expected_answers(variants.for_student(student_id))


def _lms_files(batch: BatchResult, options: RunOptions) -> tuple[tuple[Format, str, Callable[[TextIO], object]], ...]:
    """The single-file exports: format, file name, and how to write the text to a file (only when asked for)."""
    from grader.reporting.canvas import canvas_csv
    from grader.reporting.junit import write_junit
    from grader.reporting.moodle import write_moodle_csv

    return (
        (Format.CANVAS, "canvas.csv", lambda file: file.write(canvas_csv(batch, options.course, options.roster))),
        # Moodle's and JUnit's are streamed: 60 MB and 100 MB of text for 10,000 students.
        (Format.MOODLE, "moodle.csv", lambda file: write_moodle_csv(file, batch, options.course, options.roster,
                                                                    options.lang)),
        (Format.JUNIT, "junit.xml", lambda file: write_junit(file, batch, options.lang)),
    )


def grade_class(submissions: tuple[SubmissionFolder, ...], problems: tuple[Problem, ...], options: RunOptions, *,
                answers_file: Path | None = None, progress: Callable[[SubmissionResult], None] | None = None,
                keys: SubmissionKeys | None = None) -> BatchResult:
    """Grade every submission, reusing cached results and isolating the rest in workers.

    Args:
        submissions: The class.
        problems: The loaded problems.
        options: The run's options.
        answers_file: A specific answers file to read (when one file was named).
        progress: Called with each result.
        keys: The cache keys, when the caller has them (those made already are not made again).
    """
    cache = (ResultCache(options.out / CACHE_FILE, keys if keys is not None else _cache_keys(options, answers_file))
             if options.use_cache else None)
    variants = variants_for(options.course, problems)
    try:
        results = _graded_or_cached(submissions, problems, options, cache, variants, answers_file, progress)
    except BaseException:
        if cache is not None:
            cache.discard()
        raise
    if cache is not None:
        cache.save()
    return make_batch(results, problems)


def _graded_or_cached(submissions: tuple[SubmissionFolder, ...], problems: tuple[Problem, ...], options: RunOptions,
                      cache: ResultCache | None, variants: Variants | None,
                      answers_file: Path | None, progress: Callable[[SubmissionResult], None] | None
                      ) -> list[SubmissionResult]:
    results: list[SubmissionResult] = []
    pending: list[SubmissionFolder] = []
    for submission in submissions:
        cached = cache.get(submission) if cache is not None else None
        if cached is None:
            pending.append(submission)
            continue
        results.append(_summed(cached))
        if progress is not None:
            progress(cached)
        if len(results) % KEEP_EVERY == 0:
            keep()
    sending = cache.keys.make if cache is not None else None  # each key before its file is read
    if options.workers > 0 and pending:
        fresh = grade_isolated(pending, problems, options.problems_dir, workers=options.workers, limits=options.limits,
                               answers_file=answers_file, variants=variants, progress=progress, sending=sending)
    else:
        fresh = ((_graded(s, problems, answers_file, variants, progress, sending), None) for s in pending)
    for submission, (result, encoded) in zip(pending, fresh):
        # Summed as it arrives, while the workers grade: summed after, the sums would keep a CPU waiting.
        results.append(_summed(result))
        if cache is not None:
            cache.put(submission, result, encoded)
        if len(results) % KEEP_EVERY == 0:
            keep()
    return results


def _graded(submission: SubmissionFolder, problems: tuple[Problem, ...], answers_file: Path | None,
            variants: Variants | None, progress: Callable[[SubmissionResult], None] | None,
            sending: Callable[[list[SubmissionFolder]], None] | None) -> SubmissionResult:
    if sending is not None:
        sending([submission])
    result = grade_folder(submission, problems, answers_file=answers_file, variants=variants)
    if progress is not None:
        progress(result)
    return result
