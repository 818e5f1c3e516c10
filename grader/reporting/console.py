"""Results printed on a terminal for a student (``grade check``) and the batch summary."""

from __future__ import annotations

from fractions import Fraction

import click

from grader.reporting.formatting import points
from grader.reporting.student_view import STATUS_WORDS, StudentView
from grader.results import BatchResult, Lang, Status, SubmissionStatus, exact_sum

_STYLE = {
    Status.CORRECT: ("✓", "green"),
    Status.PARTIAL: ("~", "yellow"),
    Status.WRONG: ("✗", "red"),
    Status.MISSING: ("-", "red"),
    Status.INVALID: ("!", "magenta"),
    Status.NEEDS_REVIEW: ("?", "cyan"),
    Status.ERROR: ("!", "red"),
}


def print_submission(view: StudentView, source: str | None, lang: Lang) -> None:
    """Print every part the student may see; colours only where the terminal allows."""
    click.echo(click.style(f"Submission {view.student_id}", bold=True) + (f"  ({source})" if source else ""))
    if view.error:
        click.secho(f"Error: {view.error}", fg="red")
    for problem, title, score, maximum in view.problems:
        click.echo(click.style(f"\n{problem}", bold=True) + f"  {score}/{maximum}  {title}")
        for part in (p for p in view.parts if p.problem == problem):
            mark, colour = _STYLE[part.status] if part.status else (" ", None)
            line = f"  {click.style(mark, fg=colour)} {part.part:<24} {part.score:>6}/{part.max_score:<4}"
            if part.status is not None:
                line += f" {STATUS_WORDS[part.status].text(lang):<12}"
            if part.feedback is not None:
                line += f" {part.feedback}"
            if part.expected is not None:
                line += f"  [expected: {part.expected}]" if lang is Lang.EN else f"  [پاسخ: {part.expected}]"
            click.echo(line)
    for warning in view.warnings:
        click.secho(f"warning: {warning}", fg="yellow")
    click.echo(click.style(f"\nTotal: {view.total}/{view.max_total}", bold=True))


def summary_line(batch: BatchResult) -> str:
    """``Graded 7 submissions: 2 errors, 1 partly unreadable; mean 5.2/6.``"""
    results = batch.submissions
    errors = sum(r.status is SubmissionStatus.ERROR for r in results)
    partial = sum(r.status is SubmissionStatus.PARTIAL for r in results)
    graded = [r.total for r in results if r.status is not SubmissionStatus.ERROR]
    mean = exact_sum(graded) / len(graded) if graded else Fraction(0)
    # Over each problem's parts, not ``r.parts``: a class has 300,000 parts, and no tuple of them is needed.
    review = [r.student_id for r in results for problem in r.problems for p in problem.parts
              if p.status is Status.NEEDS_REVIEW]
    return (f"Graded {len(results)} submission{'s' if len(results) != 1 else ''}: {errors} error(s), "
            f"{partial} partly unreadable; mean score {points(mean)}/{points(batch.max_total)} "
            f"(over the {len(graded)} read); {len(review)} answer(s) of {len(set(review))} student(s) await review.")
