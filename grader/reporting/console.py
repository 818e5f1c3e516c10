"""Results printed on a terminal for a student (``grade check``) and the batch summary."""

from __future__ import annotations

from fractions import Fraction

import click

from grader.reporting.frames import feedback_text, points
from grader.results import BatchResult, Lang, Status, SubmissionResult, SubmissionStatus

_STYLE = {
    Status.CORRECT: ("✓", "green"),
    Status.PARTIAL: ("~", "yellow"),
    Status.WRONG: ("✗", "red"),
    Status.MISSING: ("-", "red"),
    Status.INVALID: ("!", "magenta"),
    Status.NEEDS_REVIEW: ("?", "cyan"),
    Status.ERROR: ("!", "red"),
}


def print_submission(result: SubmissionResult, batch: BatchResult, lang: Lang) -> None:
    """Print every part's score, status and feedback; colours only where the terminal allows."""
    source = f"  ({result.source})" if result.source else ""
    click.echo(click.style(f"Submission {result.student_id}", bold=True) + source)
    if result.error:
        click.secho(f"Error: {result.error.text(lang)}", fg="red")
    for problem in result.problems:
        click.echo(click.style(f"\n{problem.problem}", bold=True)
                   + f"  {points(problem.score)}/{points(problem.max_score)}")
        for part in problem.parts:
            mark, colour = _STYLE[part.status]
            click.echo(f"  {click.style(mark, fg=colour)} {part.part:<24} "
                       f"{points(part.score):>6}/{points(part.max_score):<4} {part.status.value:<12} "
                       f"{feedback_text(part.feedback, lang)}")
    for warning in result.warnings:
        click.secho(f"warning: {warning.text(lang)}", fg="yellow")
    click.echo(click.style(f"\nTotal: {points(result.total)}/{points(batch.max_total)}", bold=True))


def summary_line(batch: BatchResult) -> str:
    """``Graded 7 submissions: 2 errors, 1 partly unreadable; mean 5.2/6.``"""
    results = batch.submissions
    errors = sum(r.status is SubmissionStatus.ERROR for r in results)
    partial = sum(r.status is SubmissionStatus.PARTIAL for r in results)
    graded = [r.total for r in results if r.status is not SubmissionStatus.ERROR]
    mean = sum(graded, Fraction(0)) / len(graded) if graded else Fraction(0)
    review = [r.student_id for r in results for p in r.parts if p.status is Status.NEEDS_REVIEW]
    return (f"Graded {len(results)} submission{'s' if len(results) != 1 else ''}: {errors} error(s), "
            f"{partial} partly unreadable; mean score {points(mean)}/{points(batch.max_total)} "
            f"(over the {len(graded)} read); {len(review)} answer(s) of {len(set(review))} student(s) await review.")
