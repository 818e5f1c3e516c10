"""The ``grade`` command line: a thin click layer over the engine and the writers."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import click

from grader import __version__
from grader.course import COURSE_FILE, Course, load_course
from grader.engine import grade_folder
from grader.errors import GraderError
from grader.isolation import DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT, Limits
from grader.report_formats import DEFAULT_EXCLUDED, DEFAULT_FORMATS, Format
from grader.problems import Problem, default_problems_dir, load_problems
from grader.reporting.console import print_submission
from grader.reporting.student_view import student_view, view_dict
from grader.results import Lang, SubmissionStatus
from grader.roster import Roster, load_roster
from grader.submission import SubmissionFolder, find_submissions, readable_name

EXIT_UNREADABLE = 1
EXIT_BELOW_MIN = 3


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
    "--lang", type=click.Choice([lang.value for lang in Lang]), default=None,
    help="Language of the feedback: en or fa [default: course.toml's feedback.lang, else en].")
_course_option = click.option(
    "--course", "course_file", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
    help=f"Course settings [default: ./{COURSE_FILE} when it exists].")


def _load(problems_dir: Path | None) -> tuple[Problem, ...]:
    try:
        return load_problems(problems_dir or default_problems_dir())
    except GraderError as error:
        raise click.ClickException(str(error)) from None


def _find(path: Path) -> tuple[SubmissionFolder, ...]:
    try:
        return find_submissions(path)
    except GraderError as error:
        raise click.UsageError(str(error)) from None


def _course(course_file: Path | None) -> Course:
    try:
        return load_course(course_file or Path(COURSE_FILE))
    except GraderError as error:
        raise click.ClickException(str(error)) from None


def _roster(roster_file: Path | None) -> Roster | None:
    try:
        return load_roster(roster_file) if roster_file else None
    except GraderError as error:
        raise click.ClickException(str(error)) from None


def _student_ids(given: tuple[str, ...], roster_file: Path | None) -> list[str]:
    """The ids named on the command line, then every student of the roster."""
    return list(given) + [s.student_id for s in (_roster(roster_file).students if roster_file else ())]


def _formats(text: str) -> tuple[Format, ...]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if names == ["all"]:
        return tuple(Format)
    try:
        return tuple(Format(n) for n in names)
    except ValueError:
        raise click.BadParameter(f"{text!r}: choose from {', '.join(f.value for f in Format)} or 'all'",
                                 param_hint="--formats") from None


@click.group(cls=_DefaultRunGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="grade")
def main() -> None:
    """Grade homework submissions against the problems' reference solvers.

    \b
    grade submissions/                 grade a class; writes reports/ (CSVs and feedback files)
    grade submissions/ --formats all   also report.xlsx, report.html, Canvas, Moodle, JUnit, Gradescope
    grade check submissions/s001       check one submission (for students)
    grade key                          write the answer key from the solvers
    grade derive                       keep the solvers' SymPy derivations in the problem folders
    grade variant s001 --sheet sheets/ a student's own numbers, problem sheet and answer template
    grade selftest                     run every problem's question tests on 50 random variants
    grade bundle --students            the offline self-check for students (answers hashed)
    grade autograder-zip               build the Gradescope autograder zip
    grade problems                     list the problems and their points

    `grade PATH` is short for `grade run PATH`. See README.md and docs/.
    """


@main.command()
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("reports"),
              show_default=True, help="Folder the reports are written to.")
@_problems_option
@_course_option
@_lang_option
@click.option("--roster", "roster_file", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
              help="Class list (student_id, name, email, section): names joined into the reports, "
                   "students without a submission reported as missing.")
@click.option("--overrides", "overrides_file", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              default=None, help="Instructor scores (student_id, problem, part, score, comment) applied on every "
                                 "run [default: PATH/overrides.csv when it exists].")
@click.option("--similarity-exclude", default=",".join(DEFAULT_EXCLUDED), show_default=True,
              help="Comma-separated student ids left out of the similarity report.")
@click.option("--formats", default=",".join(f.value for f in DEFAULT_FORMATS), show_default=True,
              help=f"Comma-separated reports to write, or 'all': {', '.join(f.value for f in Format)}.")
@click.option("--workers", type=click.IntRange(min=0), default=None,
              help="Worker processes, each submission under a time and memory limit; 0 grades in this process "
                   "without limits [default: the number of CPUs].")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=DEFAULT_TIMEOUT, show_default=True,
              help="Seconds one submission may take in a worker.")
@click.option("--memory-mb", type=click.IntRange(min=64), default=DEFAULT_MEMORY_MB, show_default=True,
              help="Memory (MiB) one worker may add while grading.")
@click.option("--no-cache", is_flag=True, help="Regrade everything instead of reusing results for unchanged input.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or summary.")
def run(path: Path, out: Path, problems_dir: Path | None, course_file: Path | None, lang: str | None,
        roster_file: Path | None, overrides_file: Path | None, similarity_exclude: str, formats: str,
        workers: int | None, timeout: float, memory_mb: int, no_cache: bool, quiet: bool) -> None:
    """Grade every submission under PATH and write the reports into --out.

    PATH is a class folder (one sub-folder per student, named by student id,
    holding answers.toml or answers.json), one submission folder, or one
    answers file. A submission that cannot be read gets status `error` in
    the reports; the others are graded as usual. Essays the machine is unsure
    about get status `needs_review`; scores in the overrides file replace the
    machine's and are marked `overridden`.
    """
    problems_dir = problems_dir or default_problems_dir()
    course = _course(course_file)
    if overrides_file is None and path.is_dir() and (path / "overrides.csv").is_file():
        overrides_file = path / "overrides.csv"
    from grader.pipeline import RunOptions

    options = RunOptions(
        out=out, course=course, lang=Lang(lang) if lang else course.lang,
        roster=_roster(roster_file), overrides=overrides_file,
        similarity_exclude=tuple(s.strip() for s in similarity_exclude.split(",") if s.strip()),
        formats=_formats(formats), problems_dir=problems_dir,
        workers=(os.cpu_count() or 1) if workers is None else workers,
        limits=Limits(timeout=timeout, memory_mb=memory_mb), use_cache=not no_cache,
    )
    submissions = _find(path)
    answers_file = path if path.is_file() else None
    from grader.pipeline import run_class

    def problems() -> tuple[Problem, ...]:  # loaded only when something is to be graded
        return _load(problems_dir)

    try:
        if quiet or len(submissions) < 2:
            result = run_class(submissions, problems, options, answers_file=answers_file)
        else:
            with click.progressbar(length=len(submissions), label="Grading", file=sys.stderr) as bar:
                result = run_class(submissions, problems, options, answers_file=answers_file,
                                   progress=lambda _: bar.update(1))
    except GraderError as error:
        raise click.ClickException(str(error)) from None
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    if not quiet:
        click.echo(result.summary)
        if result.ungraded_problems:
            click.echo(f"Not graded (no problem folder): {', '.join(result.ungraded_problems)}")
        folders = sorted({p.parent for p in result.written})
        if result.reused:
            click.echo(f"Nothing changed since the last run: the {len(result.written)} files in "
                       + ", ".join(str(f) for f in folders) + " are up to date (--no-cache to redo them).")
        else:
            click.echo(f"Wrote {len(result.written)} files in " + ", ".join(str(f) for f in folders))


@main.command()
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.option("--min-score", type=float, default=None,
              help=f"Exit with code {EXIT_BELOW_MIN} when the total is below this (for CI).")
@click.option("--student", default=None,
              help="Whose variant to check against, when variants are on [default: [student] id in the answers "
                   "file, else the folder name].")
@_problems_option
@_course_option
@_lang_option
def check(path: Path, as_json: bool, min_score: float | None, student: str | None, problems_dir: Path | None,
          course_file: Path | None, lang: str | None) -> None:
    """Grade one submission and print the result of every part.

    PATH is a submission folder or its answers file. What is shown follows the
    course's `[check] reveal` setting (course.toml); by default no expected
    values. With variants on, the answers are checked against the student's
    own numbers (see --student). The solvers' symbolic derivations are kept
    in ~/.cache/hw-grader (or $GRADER_CACHE_DIR; empty keeps none), so later
    checks start faster.
    Exit code: 0 when the answers were read and graded (whatever the score),
    1 when the file could not be read, 2 on a usage error, 3 when the total is
    below --min-score.
    """
    from grader.formulas import stored
    from grader.submission import IdSource, declared_id
    from grader.variants import variants_for

    stored.keep_in(stored.user_cache_folder())  # the solvers' derivations: SymPy is imported only the first time
    problems = _load(problems_dir)
    course = _course(course_file)
    language = Lang(lang) if lang else course.lang
    submissions = _find(path)
    if len(submissions) != 1:
        raise click.UsageError(f"{path} holds {len(submissions)} submissions; "
                               "give one submission folder or answers file")
    answers_file = path if path.is_file() else None
    submission = submissions[0]
    try:
        variants = variants_for(course, problems)
        # The student's own numbers: by --student, else [student] id, else the folder's name.
        if variants is not None and student:
            submission = replace(submission, student_id=student, named_by=IdSource.OPTION)
        elif variants is not None:
            submission = replace(submission, student_id=declared_id(submission, answers_file) or submission.student_id)
        own = problems if variants is None else variants.for_student(submission.student_id)
    except GraderError as error:
        raise click.ClickException(str(error)) from None
    result = grade_folder(submission, problems, answers_file=answers_file, variants=variants)
    view = student_view(result, own, course.check_reveal, language)
    if as_json:
        click.echo(json.dumps(view_dict(view, language), ensure_ascii=False, indent=2))
    else:
        print_submission(view, readable_name(str(result.source)) if result.source else None, language)
    if result.status is SubmissionStatus.ERROR:
        sys.exit(EXIT_UNREADABLE)
    if min_score is not None and result.total < Fraction(str(min_score)):
        if not as_json:
            click.secho(f"Total {float(result.total):g} is below the minimum {min_score:g}.", fg="red", err=True)
        sys.exit(EXIT_BELOW_MIN)


@main.command()
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("solutions/answers.toml"),
              show_default=True, help="File the key is written to ('-' for standard output).")
@_problems_option
def key(out: Path, problems_dir: Path | None) -> None:
    """Write the answer key, in the submission format, from the reference solvers."""
    from grader.answer_key import answer_key_toml
    from grader.reporting.files import write_atomic

    text = answer_key_toml(_load(problems_dir))
    if str(out) == "-":
        click.echo(text, nl=False)
        return
    write_atomic(out, text)
    click.echo(f"Wrote {out}")


@main.command()
@_problems_option
def derive(problems_dir: Path | None) -> None:
    """Derive the solvers' symbolic formulas and keep them in each problem folder, to ship.

    Solvers mark their SymPy derivations @stored; this writes them to
    derivations/ beside each solver, so that `grade check` and `grade run`
    read them instead of importing SymPy. Run it after changing a solver or
    the grader's formula code (the tests fail while a folder is stale);
    stale files are removed. Stale ones are never read: without a fresh
    file, the formulas are derived again.
    """
    from grader.formulas.stored import SHIPPED, ship_derivations

    root = problems_dir or default_problems_dir()
    try:
        written = ship_derivations(lambda: [problem.spec.folder / SHIPPED for problem in _load(root)])
    except OSError as error:
        raise click.ClickException(f"cannot write the derivations: {error}") from None
    for folder, count in written.items():
        try:
            shown = os.path.relpath(folder)
        except ValueError:  # on another drive (Windows)
            shown = str(folder)
        click.echo(f"{count} derivations in {shown}")
    if not written:
        click.echo(f"No solver under {root} marks derivations @stored: nothing to keep.")


@main.command(name="autograder-zip")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("autograder.zip"),
              show_default=True, help="The zip to write.")
@click.option("--course", "course_file", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
              help="The course.toml to pack (e.g. a private copy holding the variant secret) "
                   "[default: the checkout's].")
def autograder_zip(out: Path, course_file: Path | None) -> None:
    """Build the Gradescope autograder zip (setup.sh, run_autograder, the grader and the problems).

    Upload the zip as it is in the assignment's "Configure Autograder" page.
    run_autograder grades /autograder/submission and writes
    /autograder/results/results.json, with an error test if grading crashes.
    """
    from grader.reporting.gradescope import build_autograder_zip  # only this command needs zipfile and friends

    project_root = Path(__file__).resolve().parent.parent
    if not (project_root / "problems").is_dir():
        raise click.ClickException(f"no problems/ folder beside the grader package in {project_root}; "
                                   "run this from a checkout of the grader")
    packed = course_file or project_root / COURSE_FILE
    if packed.is_file():
        course = _course(packed)
        if course.variants and not course.secret:  # GRADER_SECRET is not set on Gradescope's machines
            raise click.ClickException(f"variants are on but {packed} holds no [variants] secret: every submission "
                                       "would fail on Gradescope; pack a private course.toml with --course")
    click.echo(f"Wrote {build_autograder_zip(out, project_root, course_file)}")


@main.command()
@click.argument("student_ids", metavar="STUDENT_ID...", nargs=-1)
@click.option("--roster", "roster_file", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
              help="Also every student of this class list (student_id column).")
@click.option("--json", "as_json", is_flag=True,
              help="Print the numbers as JSON: an object for one student, a list for several (docs/variants.md).")
@click.option("--sheet", "sheet_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write each student's problem sheet (sheet.md, Persian and English) and answer template "
                   "(answers.toml, every key left blank) into DIR/<student id>/.")
@_problems_option
@_course_option
def variant(student_ids: tuple[str, ...], roster_file: Path | None, as_json: bool, sheet_dir: Path | None,
            problems_dir: Path | None, course_file: Path | None) -> None:
    """Show a student's own numbers, or write their problem sheet.

    With `[variants] enabled = true` in course.toml, each student's numbers
    are drawn from the course secret and their id: the same id always gets
    the same numbers. With variants off, everyone gets the homework's.

    \b
    grade variant s001                       the numbers of student s001
    grade variant s001 --json                the same, as JSON
    grade variant --roster roster.csv --sheet sheets/   a sheet for every student
    """
    from grader.sheets import variant_document, write_sheet

    ids = _student_ids(student_ids, roster_file)
    if not ids:
        raise click.UsageError("give a STUDENT_ID or --roster FILE")
    problems, course = _load(problems_dir), _course(course_file)
    try:
        documents = [variant_document(problems, course, student_id) for student_id in ids]
        written = [path for student_id in ids for path in write_sheet(problems, course, student_id, sheet_dir)] \
            if sheet_dir is not None else []
    except GraderError as error:
        raise click.ClickException(str(error)) from None
    if not course.variants:
        click.secho("Variants are off ([variants] enabled = false in course.toml): these are the homework's numbers.",
                    fg="yellow", err=True)
    if as_json:
        click.echo(json.dumps(documents[0] if len(documents) == 1 else documents, ensure_ascii=False, indent=2))
    elif sheet_dir is None:
        for document in documents:
            click.echo(f"{document['student_id']}:")
            for problem_id, problem in document["problems"].items():
                if problem["numbers"]:
                    shown = ", ".join(f"{k} = {json.dumps(v, ensure_ascii=False)}" for k, v in problem["numbers"].items())
                    click.echo(f"  {problem_id}: {shown}")
    if written:
        click.echo(f"Wrote {len(written)} files under {sheet_dir}")


@main.command()
@click.option("--variants", "count", type=click.IntRange(min=0), default=50, show_default=True,
              help="Random variants each problem with [variants] is tested on, besides the homework's numbers.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random variants (to redraw a failure).")
@_problems_option
def selftest(count: int, seed: int, problems_dir: Path | None) -> None:
    """Run every problem's question tests, on the homework's numbers and on random variants.

    Each problem is tested with its key (full marks), each mistake its solver
    knows (diagnosed), one entry changed in each compared part (exactly that
    part's points lost), and the cases of its tests.toml (docs/variants.md).
    Exit code 1 when any case fails.
    """
    from grader.selftest import selftest as run_selftest

    problems = _load(problems_dir)
    try:
        report = run_selftest(problems, variants=count, seed=seed)
    except GraderError as error:
        raise click.ClickException(str(error)) from None
    for problem_id, runs in sorted(report.runs.items()):
        failed = sum(1 for f in report.failures if f.problem == problem_id)
        click.echo(f"{problem_id}: {runs} case runs, " + (click.style(f"{failed} failed", fg="red") if failed
                                                          else click.style("all passed", fg="green")))
    for failure in report.failures:
        click.echo(f"FAIL {failure.problem} [{failure.variant}] {failure.test}: {failure.reason}\n"
                   f"     parameters: {json.dumps(dict(failure.parameters), ensure_ascii=False)}", err=True)
    if report.failures:
        sys.exit(1)


@main.command()
@click.option("--students", "for_students", is_flag=True, required=True,
              help="The bundle for students: answers only as salted scrypt hashes (required: says what is made).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("bundle"), show_default=True,
              help="Folder the bundle is written to; with variants on, one sub-folder per student.")
@click.option("--student", "student_ids", multiple=True, help="A student to make a bundle for (repeatable).")
@click.option("--roster", "roster_file", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
              help="Also every student of this class list.")
@_problems_option
@_course_option
def bundle(for_students: bool, out: Path, student_ids: tuple[str, ...], roster_file: Path | None,
           problems_dir: Path | None, course_file: Path | None) -> None:
    """Write the offline self-check bundle students run `grade check` with.

    It holds the grader's readers and checkers, the problem statements, a
    problem sheet and a blank answer template; the expected answers only as
    salted, deliberately slow hashes (scrypt), so a student learns whether a
    part is right without reading the key. Answers from a small set (yes/no,
    a small number) can still be found by trying each; see docs/variants.md.

    \b
    grade bundle --students                          one bundle for the class (variants off)
    grade bundle --students --roster roster.csv      one per student (variants on)
    """
    from grader.bundle import build_bundle, build_bundles

    problems, course = _load(problems_dir), _course(course_file)
    ids = _student_ids(student_ids, roster_file)
    if course.variants and not ids:
        raise click.UsageError("variants are on: every student needs their own bundle; give --student ID or --roster")
    try:
        if course.variants:
            build_bundles(problems_dir or default_problems_dir(), course, out, ids, os.cpu_count() or 1)
        else:
            if ids:
                click.secho("Variants are off: one bundle for every student (the ids are not needed).",
                            fg="yellow", err=True)
            build_bundle(problems, course, out)
    except GraderError as error:
        raise click.ClickException(str(error)) from None
    where = f"{len(ids)} bundle{'s' if len(ids) != 1 else ''} under {out}" if course.variants else str(out)
    click.echo(f"Wrote {where}. Students: `pip install .` in it, then `grade check answers.toml`.")


@main.command(name="problems")
@_problems_option
@_course_option
@_lang_option
def list_problems(problems_dir: Path | None, course_file: Path | None, lang: str | None) -> None:
    """List the problems, their parts and points."""
    language = Lang(lang) if lang else _course(course_file).lang
    for problem in _load(problems_dir):
        spec = problem.spec
        click.echo(f"{spec.id}  {spec.title.text(language)}  ({len(spec.parts)} parts, "
                   f"{float(spec.max_score):g} points)  {spec.folder}")


if __name__ == "__main__":  # python -m grader.cli, as the benchmark runs it
    main()
