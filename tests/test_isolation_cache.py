"""Workers with limits, determinism across worker counts, and incremental regrading."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import pytest

import grader.cache as cache_module
import grader.pipeline as pipeline
from grader.course import Course
from grader.errors import GraderError
from grader.forked import share_in_forks
from grader.isolation import Limits
from grader.pipeline import Format, RunOptions, run_class
from grader.problems import Problem, load_problems
from grader.results import Lang, Status, SubmissionResult, SubmissionStatus
from grader.submission import find_submissions
from tests.conftest import PROBLEMS, SUBMISSIONS

SLOW_SOLVER = '''
import time
from typing import Any, Mapping

def solve(parameters: Mapping[str, Any], *, mistakes=frozenset(), given=None) -> dict[str, Any]:
    """The answer is 1; a given answer of 666 makes the solver hang, 777 eat memory, 888 fail as a bug would."""
    if given and given.get("value") == 888:
        raise KeyError("a solver bug on odd input")
    if given and given.get("value") == 666:
        time.sleep(60)
    if given and given.get("value") == 777:
        hog = bytearray(4 * 1024 ** 3)
    return {"value": 1}
'''
SLOW_SPEC = '''
id = "z9"
title = { en = "Test", fa = "آزمون" }
statement = { en = "Test", fa = "آزمون" }
[[parts]]
id = "value"
answer = "value"
kind = "integer"
points = 1
'''


def options(out: Path, problems_dir: Path = PROBLEMS, **changes) -> RunOptions:
    """Run options writing CSV reports only."""
    return RunOptions(out=out, course=Course(), lang=Lang.EN, formats=(Format.CSV,), problems_dir=problems_dir,
                      **changes)


def csv_bytes(out: Path) -> dict[str, bytes]:
    """The CSV reports of a run."""
    return {p.name: p.read_bytes() for p in sorted(out.glob("*.csv"))}


def test_reports_identical_with_any_number_of_workers(tmp_path, problems) -> None:
    """In-process, one worker and two workers give byte-identical reports."""
    submissions = find_submissions(SUBMISSIONS)
    runs = []
    for workers in (0, 1, 2):
        out = tmp_path / f"w{workers}"
        run_class(submissions, problems, options(out, workers=workers))
        runs.append(csv_bytes(out))
    assert runs[0] == runs[1] == runs[2]


def files_with_and_without_forks(tmp_path: Path, problems: tuple[Problem, ...], monkeypatch: pytest.MonkeyPatch,
                                 formats: tuple[Format, ...], **changes: object) -> list[dict[Path, bytes]]:
    """The files (by path under ``--out``, the cache left out) of a run of the samples without forks, then of one
    whose per-student files are written by two forked processes; each run's files are the ones it says it wrote."""
    monkeypatch.setattr(pipeline, "FORK_FROM", 1)  # the sample class is small: fork for it too
    runs = []
    for workers in (0, 2):
        out = tmp_path / f"w{workers}"
        run = replace(options(out, workers=workers, **changes), formats=formats)
        written = run_class(find_submissions(SUBMISSIONS), problems, run).written
        files = sorted(p for p in out.rglob("*") if p.is_file() and ".cache" not in p.parts)
        assert sorted(written) == files
        runs.append({p.relative_to(out): p.read_bytes() for p in files})
    return runs


def test_feedback_written_in_forked_processes_is_identical(tmp_path, problems, monkeypatch) -> None:
    """Feedback files written by two forked processes are the same files, byte for byte, as written by one."""
    runs = files_with_and_without_forks(tmp_path, problems, monkeypatch, (Format.CSV, Format.FEEDBACK))
    feedback = [path for path in runs[0] if path.parent.name == "feedback"]
    assert len(feedback) == 2 * len(find_submissions(SUBMISSIONS)) and runs[0] == runs[1]


def test_every_format_identical_with_forked_writers(tmp_path, problems, monkeypatch) -> None:
    """Every format written with forked feedback writers gives the same files, byte for byte, as without forks."""
    runs = files_with_and_without_forks(tmp_path, problems, monkeypatch, tuple(Format))
    assert runs[0] == runs[1]
    assert {p.name for p in runs[1]} >= {"report.xlsx", "report.html", "scores.csv", "canvas.csv", "junit.xml"}


def test_similarity_found_by_a_forked_writer_is_identical(tmp_path, problems, monkeypatch) -> None:
    """A forked feedback writer finds the similar essays, and the CSV files are those of a run without forks."""
    import grader.similarity

    found = grader.similarity.similar_essays

    def similar_essays(*args, **kwargs):
        (tmp_path / f"similarity-{os.getpid()}").write_text("")
        return found(*args, **kwargs)

    monkeypatch.setattr(grader.similarity, "similar_essays", similar_essays)
    runs = files_with_and_without_forks(tmp_path / "runs", problems, monkeypatch, (Format.CSV, Format.FEEDBACK),
                                        similarity_exclude=())
    finders = sorted(int(p.name.split("-")[1]) for p in tmp_path.glob("similarity-*"))
    assert len(finders) == 2 and os.getpid() in finders  # once here (no forks), once in a forked writer
    assert runs[0] == runs[1]
    assert b"q1,answer,carried-forward,mistake-pool-stride," in runs[1][Path("similarity.csv")]


def wait_for(condition: Callable[[], bool], seconds: float = 20.0) -> None:
    """Poll until ``condition()`` holds (the forked processes have started their work)."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the forked processes did not start"
        time.sleep(0.01)


def test_shared_chunks_each_run_once(tmp_path) -> None:
    """Every chunk of the work runs exactly once, in the forked processes or this one, and finishing returns
    when all are done."""
    def work(start: int, stop: int) -> None:
        (tmp_path / f"{start}-{stop}-{os.getpid()}").write_text("done")

    finish = share_in_forks(work, 1000, 3, chunk=7)
    wait_for(lambda: any(not p.name.endswith(f"-{os.getpid()}") for p in tmp_path.iterdir()))
    finish()
    chunks = sorted(tuple(int(n) for n in p.name.split("-")[:2]) for p in tmp_path.iterdir())
    assert chunks == [(start, min(start + 7, 1000)) for start in range(0, 1000, 7)]


def test_failed_forked_chunk_is_an_error(tmp_path) -> None:
    """A chunk that fails in a forked process makes finishing raise a GraderError, not pass silently."""
    parent = os.getpid()

    def work(start: int, stop: int) -> None:
        if os.getpid() != parent:
            (tmp_path / f"failed-{os.getpid()}").write_text("")
            raise OSError("disk full")

    finish = share_in_forks(work, 100, 2, chunk=1)
    wait_for(lambda: any(tmp_path.iterdir()))
    with pytest.raises(GraderError, match="exit code 1"):
        finish()


def test_first_job_runs_once_in_a_forked_process(tmp_path) -> None:
    """The first job runs exactly once, in a forked process, and every chunk still runs exactly once."""
    def first() -> None:
        (tmp_path / f"first-{os.getpid()}").write_text("")

    def work(start: int, stop: int) -> None:
        (tmp_path / f"{start}-{stop}-{os.getpid()}").write_text("done")

    share_in_forks(work, 300, 2, chunk=7, first=first)()
    firsts = [p.name for p in tmp_path.glob("first-*")]
    assert len(firsts) == 1 and firsts != [f"first-{os.getpid()}"]
    chunks = sorted(tuple(int(n) for n in p.name.split("-")[:2]) for p in tmp_path.iterdir() if p.name[0].isdigit())
    assert chunks == [(start, min(start + 7, 300)) for start in range(0, 300, 7)]


def test_first_job_runs_here_first_without_processes() -> None:
    """With no processes asked for, the first job is done here, before the chunks."""
    seen: list[object] = []
    share_in_forks(lambda start, stop: seen.append((start, stop)), 100, 0, first=lambda: seen.append("first"))
    assert seen == ["first", (0, 64), (64, 100)]


def test_jobs_run_once_each_across_the_processes(tmp_path) -> None:
    """Every shared job runs exactly once (in whichever process takes it), and every chunk still runs once."""
    def job(number: int) -> Callable[[], None]:
        return lambda: (tmp_path / f"job{number}-{os.getpid()}").write_text("")

    def work(start: int, stop: int) -> None:
        (tmp_path / f"{start}-{stop}-{os.getpid()}").write_text("done")

    share_in_forks(work, 300, 2, chunk=7, first=job(0), jobs=[job(number) for number in range(1, 6)])()
    jobs = sorted(p.name.split("-")[0] for p in tmp_path.glob("job*"))
    assert jobs == [f"job{number}" for number in range(6)]
    assert not (tmp_path / f"job0-{os.getpid()}").exists()  # the first job is a forked process's
    chunks = sorted(tuple(int(n) for n in p.name.split("-")[:2]) for p in tmp_path.iterdir() if p.name[0].isdigit())
    assert chunks == [(start, min(start + 7, 300)) for start in range(0, 300, 7)]


def test_jobs_run_here_in_order_without_processes() -> None:
    """With no processes asked for, the first job, then the shared jobs in order, then the chunks run here."""
    seen: list[object] = []
    share_in_forks(lambda start, stop: seen.append((start, stop)), 100, 0, first=lambda: seen.append("first"),
                   jobs=[lambda: seen.append("a"), lambda: seen.append("b")])
    assert seen == ["first", "a", "b", (0, 64), (64, 100)]


def test_no_processes_runs_the_work_here(tmp_path) -> None:
    """With no processes asked for, the work is done at once, in this process, chunk by chunk."""
    seen: list[tuple[int, int, int]] = []
    share_in_forks(lambda start, stop: seen.append((start, stop, os.getpid())), 150, 0)
    assert seen == [(0, 64, os.getpid()), (64, 128, os.getpid()), (128, 150, os.getpid())]


def count_grading(monkeypatch) -> list[str]:
    """Record each submission graded in this process."""
    graded: list[str] = []
    original = pipeline.grade_folder

    def counting(submission, problems, **kwargs):
        graded.append(submission.student_id)
        return original(submission, problems, **kwargs)

    monkeypatch.setattr(pipeline, "grade_folder", counting)
    return graded


def test_second_run_regrades_nothing(tmp_path, problems, monkeypatch) -> None:
    """Over an unchanged class, a second run reuses every result and writes the same reports."""
    graded = count_grading(monkeypatch)
    submissions = find_submissions(SUBMISSIONS)
    run_class(submissions, problems, options(tmp_path, use_cache=True))
    first = csv_bytes(tmp_path)
    assert len(graded) == len(submissions)
    graded.clear()
    run_class(submissions, problems, options(tmp_path, use_cache=True))
    assert graded == [] and csv_bytes(tmp_path) == first


def test_first_run_makes_each_key_as_its_submission_is_sent(tmp_path, problems, monkeypatch) -> None:
    """A first run into --out makes each cache key just before its submission is graded (not all first), and
    keeps the same cache and run key as a run that makes every key first (an earlier run's record present)."""
    events: list[tuple[str, str]] = []
    original_key, original_grade = cache_module.submission_key, pipeline.grade_folder
    monkeypatch.setattr(cache_module, "submission_key",
                        lambda s, *args: events.append(("key", s.student_id)) or original_key(s, *args))
    monkeypatch.setattr(pipeline, "grade_folder",
                        lambda s, *args, **kw: events.append(("grade", s.student_id)) or original_grade(s, *args, **kw))
    submissions = find_submissions(SUBMISSIONS)
    sent, first = tmp_path / "sent", tmp_path / "first"
    run_class(submissions, problems, options(sent, use_cache=True))
    assert events == [(event, s.student_id) for s in submissions for event in ("key", "grade")]
    (first / ".cache").mkdir(parents=True)
    (first / ".cache" / "run.json").write_text("{}")  # a record that matches nothing: every key is made first
    events.clear()
    run_class(submissions, problems, options(first, use_cache=True, workers=2))
    assert events[:len(submissions)] == [("key", s.student_id) for s in submissions]
    events.clear()
    workers = tmp_path / "workers"  # a first run with workers: each chunk's keys made as it is sent
    run_class(submissions, problems, options(workers, use_cache=True, workers=2))
    assert sorted(events) == sorted(("key", s.student_id) for s in submissions)
    outs = (sent, first, workers)
    assert len({(out / ".cache" / "results.jsonl").read_bytes() for out in outs}) == 1
    records = [json.loads((out / ".cache" / "run.json").read_text()) for out in outs]
    assert len({r["key"] for r in records}) == 1 and len({tuple(r["files"]) for r in records}) == 1
    assert run_class(submissions, problems, options(sent, use_cache=True)).reused


def test_folder_name_not_utf8_is_cached_and_read_back(tmp_path, problems, monkeypatch) -> None:
    """A folder whose name is not UTF-8 is graded as ``bad\\xffid``, cached, and read back by the next run."""
    odd = tmp_path / "class" / os.fsdecode(b"bad\xffid")
    odd.mkdir(parents=True)
    shutil.copy(SUBMISSIONS / "answer-key" / "answers.toml", odd)
    submissions = find_submissions(tmp_path / "class")
    assert [s.student_id for s in submissions] == ["bad\\xffid"]
    graded = count_grading(monkeypatch)
    out = tmp_path / "out"
    run_class(submissions, problems, options(out, use_cache=True))
    first = csv_bytes(out)
    (out / ".cache" / "run.json").unlink()  # so the run is not skipped whole: each result comes from the cache
    graded.clear()
    run_class(submissions, problems, options(out, use_cache=True))
    assert graded == [] and csv_bytes(out) == first


def test_unchanged_run_is_skipped_whole(tmp_path, problems, monkeypatch) -> None:
    """A run over unchanged input with untouched reports does nothing, yet reports the same summary and batch."""
    graded = count_grading(monkeypatch)
    submissions = find_submissions(SUBMISSIONS)
    first = run_class(submissions, problems, options(tmp_path, use_cache=True))
    stamps = {p: p.stat().st_mtime_ns for p in first.written}
    graded.clear()
    second = run_class(submissions, problems, options(tmp_path, use_cache=True))
    assert second.reused and not first.reused and graded == []
    assert second.summary == first.summary and set(second.written) == set(first.written)
    assert {p: p.stat().st_mtime_ns for p in second.written} == stamps
    assert [r.total for r in second.batch.submissions] == [r.total for r in first.batch.submissions]


def test_touched_report_or_changed_overrides_redo_the_run(tmp_path, problems) -> None:
    """A deleted report, or an overrides file with new content, makes the next run write the reports again."""
    submissions = find_submissions(SUBMISSIONS)
    overrides = tmp_path / "overrides.csv"
    overrides.write_text("student_id,problem,part,score,comment\n", encoding="utf-8")
    out = tmp_path / "out"
    run_class(submissions, problems, options(out, use_cache=True, overrides=overrides))
    (out / "parts.csv").unlink()
    again = run_class(submissions, problems, options(out, use_cache=True, overrides=overrides))
    assert not again.reused and (out / "parts.csv").is_file()
    assert run_class(submissions, problems, options(out, use_cache=True, overrides=overrides)).reused
    before = (out / "scores.csv").read_bytes()
    overrides.write_text("student_id,problem,part,score,comment\nmistake-no-bias,q3,layer1.params,1,ok\n",
                         encoding="utf-8")
    changed = run_class(submissions, problems, options(out, use_cache=True, overrides=overrides))
    assert not changed.reused and (out / "scores.csv").read_bytes() != before


def test_changed_submission_or_spec_is_regraded(tmp_path, problems, monkeypatch) -> None:
    """A changed answers file regrades that student; a changed problem spec regrades everyone."""
    klass, problems_dir = tmp_path / "class", tmp_path / "problems"
    shutil.copytree(SUBMISSIONS, klass)
    shutil.copytree(PROBLEMS, problems_dir)
    graded = count_grading(monkeypatch)
    submissions = find_submissions(klass)
    run_class(submissions, problems, options(tmp_path / "out", problems_dir, use_cache=True))
    graded.clear()
    answers = klass / "mistake-no-bias" / "answers.toml"
    answers.write_text(answers.read_text(encoding="utf-8").replace("params = 4800", "params = 4864"),
                       encoding="utf-8")
    run_class(submissions, problems, options(tmp_path / "out", problems_dir, use_cache=True))
    assert graded == ["mistake-no-bias"]
    graded.clear()
    spec = problems_dir / "q3_cnn_shapes" / "problem.toml"
    spec.write_text(spec.read_text(encoding="utf-8").replace("credit = 0.5", "credit = 0.4", 1), encoding="utf-8")
    changed = load_problems(problems_dir)
    run_class(submissions, changed, options(tmp_path / "out", problems_dir, use_cache=True))
    assert sorted(graded) == sorted(s.student_id for s in submissions)


@pytest.fixture()
def slow_problem(tmp_path) -> Path:
    """A problems folder whose solver hangs or eats memory on chosen answers."""
    folder = tmp_path / "problems" / "z9_test"
    folder.mkdir(parents=True)
    (folder / "problem.toml").write_text(SLOW_SPEC, encoding="utf-8")
    (folder / "solver.py").write_text(SLOW_SOLVER, encoding="utf-8")
    return folder.parent


@pytest.mark.parametrize("value, words", [(666, "timed out"), (777, "too much memory")])
def test_runaway_submission_is_stopped_and_the_batch_goes_on(tmp_path, slow_problem, value, words) -> None:
    """A submission over the time or memory limit gets status error with the reason; the others are graded."""
    klass = tmp_path / "class"
    for student, answer in (("a-good", 1), ("b-bad", value), ("c-good", 1)):
        (klass / student).mkdir(parents=True)
        (klass / student / "answers.toml").write_text(f"[z9]\nvalue = {answer}\n", encoding="utf-8")
    problems = load_problems(slow_problem)
    result = run_class(find_submissions(klass), problems,
                       options(tmp_path / "out", slow_problem, workers=2, limits=Limits(timeout=3, memory_mb=256)))
    by_id = {r.student_id: r for r in result.batch.submissions}
    assert by_id["b-bad"].status is SubmissionStatus.ERROR and words in by_id["b-bad"].error.en
    assert by_id["a-good"].total == by_id["c-good"].total == 1


@pytest.mark.parametrize("workers", [0, 2])
def test_grading_bug_on_one_submission_is_its_error_only(tmp_path, slow_problem, workers) -> None:
    """An unexpected exception while grading one submission makes it an `error` result; the batch goes on."""
    klass = tmp_path / "class"
    for student, answer in (("a-good", 1), ("b-bug", 888), ("c-good", 1)):
        (klass / student).mkdir(parents=True)
        (klass / student / "answers.toml").write_text(f"[z9]\nvalue = {answer}\n", encoding="utf-8")
    result = run_class(find_submissions(klass), load_problems(slow_problem),
                       options(tmp_path / "out", slow_problem, workers=workers))
    by_id = {r.student_id: r for r in result.batch.submissions}
    assert by_id["b-bug"].status is SubmissionStatus.ERROR
    assert "internal error" in by_id["b-bug"].error.en and "KeyError" in by_id["b-bug"].error.en
    assert by_id["a-good"].total == by_id["c-good"].total == 1


def test_a_chunk_graded_a_problem_at_a_time_is_graded_as_one_by_one(tmp_path, problems, slow_problem) -> None:
    """Grading a chunk of submissions a problem at a time (as workers do) gives each the result it gets alone:
    readable or not, with variants or without, and when grading one of them fails."""
    from grader.engine import grade_folder, grade_folders
    from grader.variants import Variants

    klass = tmp_path / "class"
    shutil.copytree(SUBMISSIONS, klass)
    for student, content in (("x-junk", b"\xff\xfe\x00junk"), ("y-bad-toml", b"[q3\nvalue = "), ("z-empty", b"")):
        (klass / student).mkdir()
        (klass / student / "answers.toml").write_bytes(content)
    (klass / "w-no-file").mkdir()
    chunk = find_submissions(klass)
    for variants in (None, Variants(problems, "a test secret", "hw7")):
        alone = [grade_folder(submission, problems, variants=variants) for submission in chunk]
        assert grade_folders(chunk, problems, variants=variants) == alone
        assert {r.status for r in alone} == {SubmissionStatus.GRADED, SubmissionStatus.PARTIAL, SubmissionStatus.ERROR}
    buggy = tmp_path / "buggy"
    for student, answer in (("a-good", 1), ("b-bug", 888), ("c-good", 1)):
        (buggy / student).mkdir(parents=True)
        (buggy / student / "answers.toml").write_text(f"[z9]\nvalue = {answer}\n", encoding="utf-8")
    few = load_problems(slow_problem)
    together = grade_folders(find_submissions(buggy), few)
    assert together == [grade_folder(submission, few) for submission in find_submissions(buggy)]
    assert [r.status for r in together] == [SubmissionStatus.GRADED, SubmissionStatus.ERROR, SubmissionStatus.GRADED]


def test_interrupted_run_keeps_the_old_cache(tmp_path, problems, monkeypatch) -> None:
    """A run stopped part way leaves the previous cache file as it was and no temporary file behind."""
    submissions = find_submissions(SUBMISSIONS)
    run_class(submissions[:2], problems, options(tmp_path, use_cache=True))
    cache_dir = tmp_path / ".cache"
    before = (cache_dir / "results.jsonl").read_bytes()
    original = pipeline.grade_folder

    def stop_at_the_third(submission, problems, **kwargs):
        if submission.student_id == submissions[2].student_id:
            raise KeyboardInterrupt
        return original(submission, problems, **kwargs)

    monkeypatch.setattr(pipeline, "grade_folder", stop_at_the_third)
    with pytest.raises(KeyboardInterrupt):
        run_class(submissions, problems, options(tmp_path, use_cache=True))
    assert (cache_dir / "results.jsonl").read_bytes() == before
    assert sorted(p.name for p in cache_dir.iterdir()) == ["results.jsonl", "run.json"]



def test_results_travel_between_processes_unchanged(problems) -> None:
    """A result pickled (as workers send it) comes back equal, its equal scores made once and shared."""
    import pickle

    from grader.engine import grade_folder

    results = [grade_folder(s, problems) for s in find_submissions(SUBMISSIONS)]
    back = pickle.loads(pickle.dumps(results))
    assert back == results
    assert [r.parts for r in back] == [r.parts for r in results]
    scores = [part.max_score for r in back for part in r.parts if part.max_score == 2]
    assert len(scores) > 1 and all(score is scores[0] for score in scores)


def test_result_json_same_from_either_encoder(problems) -> None:
    """A result's JSON as workers send it (orjson) is the json module's byte for byte and reads back equal;
    a result UTF-8 cannot hold (a name's undecodable bytes) has none."""
    from grader.engine import grade_folder
    from grader.results import Message, PartResult, ProblemResult
    from grader.results_io import from_json, to_data, to_json

    edge = "\x00\x01\x1f\x7f\u2028\"\\/\t\b\f\r\n é \U0001F600"
    awkward = SubmissionResult(edge, None, SubmissionStatus.GRADED, (ProblemResult("q1", (PartResult(
        "q1", "a", Fraction(1, 3), Fraction(2), Status.PARTIAL, (Message(edge, "پاسخ"),), edge, edge),)),))
    results = [grade_folder(submission, problems) for submission in find_submissions(SUBMISSIONS)]
    for result in (*results, awkward):
        encoded = to_json(result)
        expected = json.dumps(to_data(result), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        assert encoded == expected.encode() and from_json(encoded) == result
    assert to_json(replace(awkward, student_id="bad\udcffid")) is None
