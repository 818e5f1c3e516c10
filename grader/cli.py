"""The ``grade`` command line: a thin click layer over the engine and the writers."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from grader import __version__
from grader.answer_key import answer_key_toml
from grader.engine import grade_batch
from grader.errors import GraderError
from grader.overrides import apply_overrides, load_overrides
from grader.problems import Problem, default_problems_dir, load_problems
from grader.reporting.console import print_submission, summary_line
from grader.reporting.files import write_atomic, write_csv_reports
from grader.reporting.frames import submission_dict
from grader.results import BatchResult, Lang, SubmissionStatus
from grader.similarity import DEFAULT_EXCLUDED, similar_essays
from grader.submission import find_submissions

EXIT_UNREADABLE = 1


class _DefaultRunGroup(click.Group):
    """A group where ``grade PATH`` means ``grade run PATH``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


_problems_option = click.option(
    "--problems", "problems_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Folder of problem folders (default: ./problems, else the one shipped with the grader).")
_lang_option = click.option(
    "--lang", type=click.Choice([lang.value for lang in Lang]), default=Lang.EN.value, show_default=True,
    help="Language of the feedback: English or Persian.")


def _load(problems_dir: Path | None) -> tuple[Problem, ...]:
    try:
        return load_problems(problems_dir or default_problems_dir())
    except GraderError as error:
        raise click.ClickException(str(error)) from None


def _grade(path: Path, problems: tuple[Problem, ...], *, show_progress: bool) -> BatchResult:
    try:
        submissions = find_submissions(path)
    except GraderError as error:
        raise click.UsageError(str(error)) from None
    answers_file = path if path.is_file() else None
    if not show_progress or len(submissions) < 2:
        return grade_batch(submissions, problems, answers_file=answers_file)
    with click.progressbar(length=len(submissions), label="Grading", file=sys.stderr) as bar:
        return grade_batch(submissions, problems, answers_file=answers_file, progress=lambda _: bar.update(1))


@click.group(cls=_DefaultRunGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="grade")
def main() -> None:
    """Grade homework submissions against the problems' reference solvers.

    \b
    grade submissions/                 grade a class; writes reports/scores.csv and reports/parts.csv
    grade check submissions/s001       check one submission (for students)
    grade key                          write the answer key from the solvers
    grade problems                     list the problems and their points

    `grade PATH` is short for `grade run PATH`. See README.md and docs/.
    """


@main.command()
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("reports"),
              show_default=True, help="Folder the reports are written to.")
@_problems_option
@_lang_option
@click.option("--overrides", "overrides_file", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              default=None, help="Instructor scores (student_id, problem, part, score, comment) applied on every "
                                 "run [default: PATH/overrides.csv when it exists].")
@click.option("--similarity-exclude", default=",".join(DEFAULT_EXCLUDED), show_default=True,
              help="Comma-separated student ids left out of the similarity report.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or summary.")
def run(path: Path, out: Path, problems_dir: Path | None, lang: str, overrides_file: Path | None,
        similarity_exclude: str, quiet: bool) -> None:
    """Grade every submission under PATH and write scores.csv, parts.csv and similarity.csv.

    PATH is a class folder (one sub-folder per student, named by student id,
    holding answers.toml or answers.json), one submission folder, or one
    answers file. A submission that cannot be read gets status `error` in
    the reports; the others are graded as usual. Essays the machine is unsure
    about get status `needs_review`; scores in the overrides file replace the
    machine's and are marked `overridden`.
    """
    problems = _load(problems_dir)
    batch = _grade(path, problems, show_progress=not quiet)
    if overrides_file is None and path.is_dir() and (path / "overrides.csv").is_file():
        overrides_file = path / "overrides.csv"
    if overrides_file is not None:
        try:
            batch, override_warnings = apply_overrides(batch, load_overrides(overrides_file))
        except GraderError as error:
            raise click.ClickException(str(error)) from None
        for warning in override_warnings:
            click.echo(f"warning: {warning}", err=True)
    excluded = tuple(s.strip() for s in similarity_exclude.split(",") if s.strip())
    written = write_csv_reports(batch, out, Lang(lang), similar_essays(batch, exclude=excluded))
    if not quiet:
        click.echo(summary_line(batch))
        if batch.ungraded_problems:
            click.echo(f"Not graded (no problem folder): {', '.join(batch.ungraded_problems)}")
        click.echo("Wrote " + ", ".join(str(p) for p in written))


@main.command()
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@_problems_option
@_lang_option
def check(path: Path, as_json: bool, problems_dir: Path | None, lang: str) -> None:
    """Grade one submission and print the result of every part.

    PATH is a submission folder or its answers file. Exit code: 0 when the
    answers were read and graded (whatever the score), 1 when the file could
    not be read, 2 on a usage error.
    """
    problems = _load(problems_dir)
    batch = _grade(path, problems, show_progress=False)
    if len(batch.submissions) != 1:
        raise click.UsageError(f"{path} holds {len(batch.submissions)} submissions; "
                               "give one submission folder or answers file")
    result = batch.submissions[0]
    if as_json:
        click.echo(json.dumps(submission_dict(result, batch.max_scores, Lang(lang)), ensure_ascii=False, indent=2))
    else:
        print_submission(result, batch, Lang(lang))
    if result.status is SubmissionStatus.ERROR:
        sys.exit(EXIT_UNREADABLE)


@main.command()
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("solutions/answers.toml"),
              show_default=True, help="File the key is written to ('-' for standard output).")
@_problems_option
def key(out: Path, problems_dir: Path | None) -> None:
    """Write the answer key, in the submission format, from the reference solvers."""
    text = answer_key_toml(_load(problems_dir))
    if str(out) == "-":
        click.echo(text, nl=False)
        return
    write_atomic(out, text)
    click.echo(f"Wrote {out}")


@main.command(name="problems")
@_problems_option
@_lang_option
def list_problems(problems_dir: Path | None, lang: str) -> None:
    """List the problems, their parts and points."""
    for problem in _load(problems_dir):
        spec = problem.spec
        click.echo(f"{spec.id}  {spec.title.text(Lang(lang))}  ({len(spec.parts)} parts, "
                   f"{float(spec.max_score):g} points)  {spec.folder}")
