"""Per-student variants on the command line: `grade variant`, `grade check`, `grade run` and `grade selftest`."""

from __future__ import annotations

import copy
import csv
import io
import json
import shutil
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.answer_key import answer_key, to_toml
from grader.cli import main
from grader.course import SECRET_ENV, load_course
from grader.sheets import variant_document
from grader.statement import render
from grader.variants import Variants
from tests.conftest import PROBLEMS

SECRET = "cli-test-secret"
ASSIGNMENT = "HW7 variants test"
VARIED = ("q2b", "q3", "q4")


@pytest.fixture(autouse=True)
def no_secret_in_environment(monkeypatch) -> None:
    """Keep a GRADER_SECRET of the machine running the tests out of these tests."""
    monkeypatch.delenv(SECRET_ENV, raising=False)


@pytest.fixture()
def runner() -> CliRunner:
    """A CliRunner."""
    return CliRunner()


@pytest.fixture()
def course_file(tmp_path) -> Path:
    """A course.toml with variants on and a secret."""
    path = tmp_path / "course-on.toml"
    path.write_text(f'[course]\nassignment = "{ASSIGNMENT}"\n[feedback]\nlang = "en"\n'
                    f'[variants]\nenabled = true\nsecret = "{SECRET}"\n', encoding="utf-8")
    return path


@pytest.fixture()
def course_off(tmp_path) -> Path:
    """A course.toml with variants off."""
    path = tmp_path / "course-off.toml"
    path.write_text(f'[course]\nassignment = "{ASSIGNMENT}"\n[variants]\nenabled = false\nsecret = "{SECRET}"\n',
                    encoding="utf-8")
    return path


@pytest.fixture()
def pool(problems) -> Variants:
    """The variants the course files above draw."""
    return Variants(problems, SECRET, ASSIGNMENT)


def grade(runner: CliRunner, *args: str):
    """Invoke `grade` and return click's result."""
    return runner.invoke(main, [*args], catch_exceptions=False)


def key_text(problems, student_id: str) -> str:
    """The answer key of ``problems`` as an answers.toml whose [student] id is ``student_id``."""
    document = answer_key(problems)
    document["student"] = {"id": student_id}
    return to_toml(document)


def write_answers(folder: Path, text: str) -> Path:
    """Write ``folder/answers.toml``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "answers.toml"
    path.write_text(text, encoding="utf-8")
    return path


def check_json(runner: CliRunner, path: Path, *args: str) -> dict:
    """`grade check PATH --json` with the repository's problems, parsed."""
    result = grade(runner, "check", str(path), "--json", "--problems", str(PROBLEMS), "--lang", "en", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def lookup(table, path):
    """The value at a part's answer path."""
    for segment in path:
        table = table[segment]
    return table


def leaves(value):
    """Every non-container value in nested dicts and lists."""
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in leaves(item)]
    return [value]


# --- grade variant --json ------------------------------------------------------------------------------------


def test_variant_json_prints_the_documented_structure(runner, course_file, problems) -> None:
    """`grade variant s1 --json` prints student_id, assignment, variants and problems.{id}.varies/numbers,
    the numbers being variant_document's."""
    result = grade(runner, "variant", "s1", "--json", "--course", str(course_file), "--problems", str(PROBLEMS))
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"student_id", "assignment", "variants", "problems"}
    assert (data["student_id"], data["assignment"], data["variants"]) == ("s1", ASSIGNMENT, True)
    assert set(data["problems"]) == {p.id for p in problems}
    assert all(set(p) == {"varies", "numbers"} for p in data["problems"].values())
    assert {pid for pid, p in data["problems"].items() if p["varies"]} == set(VARIED)
    assert set(data["problems"]["q3"]["numbers"]) == {"input_shape", "layers"}
    assert set(data["problems"]["q4"]["numbers"]) == {"X", "F"}
    assert set(data["problems"]["q2b"]["numbers"]) == {"pool_size"}
    expected = variant_document(problems, load_course(course_file), "s1")
    assert data == json.loads(json.dumps(expected))


def test_variant_json_numbers_are_the_students_own(runner, course_file, pool) -> None:
    """The numbers `grade variant` prints are the ones the student is graded with."""
    result = grade(runner, "variant", "s1", "--json", "--course", str(course_file), "--problems", str(PROBLEMS))
    numbers = json.loads(result.stdout)["problems"]
    parameters = pool.parameters("s1")
    assert numbers["q3"]["numbers"] == {k: parameters["q3"][k] for k in ("input_shape", "layers")}
    assert numbers["q4"]["numbers"] == {"X": parameters["q4"]["X"], "F": parameters["q4"]["F"]}
    assert numbers["q2b"]["numbers"] == {"pool_size": parameters["q2b"]["pool_size"]}


def test_variant_json_of_two_students_is_a_list(runner, course_file, problems) -> None:
    """`grade variant s1 s2 --json` prints a list of two documents, each variant_document's, with other numbers."""
    result = grade(runner, "variant", "s1", "s2", "--json", "--course", str(course_file),
                   "--problems", str(PROBLEMS))
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert isinstance(data, list) and [d["student_id"] for d in data] == ["s1", "s2"]
    course = load_course(course_file)
    assert data == [json.loads(json.dumps(variant_document(problems, course, s))) for s in ("s1", "s2")]
    assert data[0]["problems"]["q4"]["numbers"] != data[1]["problems"]["q4"]["numbers"]


def test_variant_with_variants_off_warns_and_prints_the_homework(runner, course_off, problems) -> None:
    """With variants off, `grade variant` warns on stderr and prints the homework's numbers."""
    result = grade(runner, "variant", "s1", "--json", "--course", str(course_off), "--problems", str(PROBLEMS))
    assert result.exit_code == 0, result.output
    assert "Variants are off" in result.stderr
    data = json.loads(result.stdout)
    assert data["variants"] is False
    assert not any(p["varies"] for p in data["problems"].values())
    for problem in problems:
        shown = problem.spec.variants.get("show")
        homework = {k: problem.spec.parameters[k] for k in shown} if shown else dict(problem.spec.parameters)
        assert data["problems"][problem.id]["numbers"] == json.loads(json.dumps(homework)), problem.id


def test_variant_plain_output_lists_the_numbers(runner, course_file, pool) -> None:
    """`grade variant s1` without --json prints the student's Q3 input shape and Q4 X."""
    result = grade(runner, "variant", "s1", "--course", str(course_file), "--problems", str(PROBLEMS))
    assert result.exit_code == 0, result.output
    parameters = pool.parameters("s1")
    assert result.stdout.startswith("s1:")
    assert json.dumps(parameters["q3"]["input_shape"]) in result.stdout
    assert json.dumps(parameters["q4"]["X"]) in result.stdout


def test_variant_without_ids_is_a_usage_error(runner, course_file) -> None:
    """`grade variant` with no id and no roster exits 2."""
    result = grade(runner, "variant", "--course", str(course_file), "--problems", str(PROBLEMS))
    assert result.exit_code == 2


def test_variant_on_without_secret_is_an_error(runner, tmp_path) -> None:
    """Variants on without a secret: `grade variant` exits 1 and names GRADER_SECRET."""
    path = tmp_path / "course.toml"
    path.write_text("[variants]\nenabled = true\n", encoding="utf-8")
    result = grade(runner, "variant", "s1", "--course", str(path), "--problems", str(PROBLEMS))
    assert result.exit_code == 1
    assert SECRET_ENV in result.output


# --- grade variant --sheet -------------------------------------------------------------------------------------


def test_variant_sheet_writes_the_students_sheet(runner, course_file, tmp_path, pool) -> None:
    """`grade variant s1 --sheet DIR` writes DIR/s1/sheet.md with the student's numbers, in Persian and English."""
    out = tmp_path / "sheets"
    result = grade(runner, "variant", "s1", "--sheet", str(out), "--course", str(course_file),
                   "--problems", str(PROBLEMS))
    assert result.exit_code == 0, result.output
    sheet = (out / "s1" / "sheet.md").read_text(encoding="utf-8")
    assert '<div dir="rtl"' in sheet and "`s1`" in sheet and ASSIGNMENT in sheet
    own = {p.id: p for p in pool.for_student("s1")}
    for problem in own.values():
        spec = problem.spec
        assert spec.title.en in sheet and spec.title.fa in sheet
        assert render(spec.statement.en, spec.parameters).strip() in sheet
        assert render(spec.statement.fa, spec.parameters).strip() in sheet
    n = own["q3"].spec.parameters["input_shape"][0]
    assert f"{n}×{n}" in sheet
    assert str(own["q4"].spec.parameters["X"]) in sheet and str(own["q4"].spec.parameters["F"]) in sheet
    assert "{input_shape" not in sheet and "{X}" not in sheet and "{pool_size" not in sheet


def test_variant_sheet_writes_a_blank_answer_template(runner, course_file, tmp_path, problems, pool) -> None:
    """DIR/s1/answers.toml parses, has [student] id = "s1" and every part's key, each value left blank."""
    out = tmp_path / "sheets"
    grade(runner, "variant", "s1", "--sheet", str(out), "--course", str(course_file), "--problems", str(PROBLEMS))
    template = tomllib.loads((out / "s1" / "answers.toml").read_text(encoding="utf-8"))
    assert template["student"] == {"id": "s1"}
    for problem in problems:
        for part in problem.spec.parts:
            value = lookup(template[problem.id], part.answer)
            assert leaves(value) and all(leaf == "" for leaf in leaves(value)), (problem.id, part.id, value)
    assert all(leaf == "" for name, table in template.items() if name != "student" for leaf in leaves(table))
    own = {p.id: p for p in pool.for_student("s1")}
    rows, cols = own["q2b"].spec.parameters["pool_size"]
    assert [len(row) for row in template["q2b"]["avg_kernel"]] == [cols] * rows  # the student's own window
    assert template["q2b"]["avg_stride"] == ""


def test_blank_template_grades_as_missing(runner, course_file, tmp_path) -> None:
    """Grading the blank template gives status missing for every part and a total of 0."""
    out = tmp_path / "sheets"
    grade(runner, "variant", "s1", "--sheet", str(out), "--course", str(course_file), "--problems", str(PROBLEMS))
    data = check_json(runner, out / "s1" / "answers.toml", "--course", str(course_file))
    statuses = {part["status"] for p in data["problems"] for part in p["parts"]}
    assert statuses == {"missing"}
    assert data["total"] == 0 and data["max_total"] > 0


def test_variant_sheet_for_a_roster(runner, course_file, tmp_path) -> None:
    """`grade variant --roster R --sheet DIR` writes one folder per roster student, each with its own id."""
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id,name,email,section\nst-a,A,a@x.edu,1\nst-b,B,b@x.edu,1\nst-c,C,c@x.edu,2\n",
                      encoding="utf-8")
    out = tmp_path / "sheets"
    result = grade(runner, "variant", "--roster", str(roster), "--sheet", str(out), "--course", str(course_file),
                   "--problems", str(PROBLEMS))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["st-a", "st-b", "st-c"]
    for student in ("st-a", "st-b", "st-c"):
        assert (out / student / "sheet.md").is_file()
        template = tomllib.loads((out / student / "answers.toml").read_text(encoding="utf-8"))
        assert template["student"]["id"] == student
    assert "Wrote 6 files" in result.output
    sheets = [(out / s / "sheet.md").read_text(encoding="utf-8") for s in ("st-a", "st-b", "st-c")]
    assert len(set(sheets)) == 3


# --- grade check -----------------------------------------------------------------------------------------------


def test_check_gives_the_variant_key_full_marks(runner, course_file, tmp_path, pool) -> None:
    """The student's own variant key scores full marks with `grade check` (the [student] id picks the variant)."""
    for student_id in ("s1", "9912345", "Maryam.K"):
        path = write_answers(tmp_path / f"folder-{len(student_id)}", key_text(pool.for_student(student_id), student_id))
        data = check_json(runner, path, "--course", str(course_file))
        assert data["total"] == data["max_total"], (student_id, data)
        assert {part["status"] for p in data["problems"] for part in p["parts"]} == {"correct"}


def test_check_gives_the_homework_key_less_than_full_marks_on_a_variant(runner, course_file, tmp_path,
                                                                         problems) -> None:
    """The homework's key, under a varied student's id, does not score full marks."""
    path = write_answers(tmp_path / "s1", key_text(problems, "s1"))
    data = check_json(runner, path, "--course", str(course_file))
    assert data["total"] < data["max_total"]
    assert {p["problem"] for p in data["problems"] if p["score"] < p["max_score"]} >= {"q3", "q4"}


def test_check_with_variants_off_uses_the_homework(runner, course_off, tmp_path, problems, pool) -> None:
    """With variants off the homework key scores full marks and a variant's key does not."""
    homework = check_json(runner, write_answers(tmp_path / "a", key_text(problems, "s1")), "--course", str(course_off))
    assert homework["total"] == homework["max_total"]
    own = check_json(runner, write_answers(tmp_path / "b", key_text(pool.for_student("s1"), "s1")),
                     "--course", str(course_off))
    assert own["total"] < own["max_total"]


def test_check_student_option_overrides_the_id(runner, course_file, tmp_path, pool) -> None:
    """`--student s2` checks s2's key (in a file that says [student] id = "s1") against s2's variant."""
    path = write_answers(tmp_path / "s1", key_text(pool.for_student("s2"), "s1"))
    assert check_json(runner, path, "--course", str(course_file))["total"] < \
        check_json(runner, path, "--course", str(course_file))["max_total"]
    data = check_json(runner, path, "--course", str(course_file), "--student", "s2")
    assert data["total"] == data["max_total"]


def test_check_student_option_is_named_in_the_id_warning(runner, course_file, tmp_path, pool) -> None:
    """`--student s2` on a file that says [student] id = "s1" warns of --student, not of the folder's name."""
    path = write_answers(tmp_path / "folder", key_text(pool.for_student("s2"), "s1"))
    data = check_json(runner, path, "--course", str(course_file), "--student", "s2")
    assert data["warnings"] == ["[student].id is 's1' but --student is 's2'; 's2' is used."]


def test_check_id_falls_back_to_the_folder_name(runner, course_file, tmp_path, pool) -> None:
    """Without a [student] id, the folder name picks the variant."""
    document = answer_key(pool.for_student("s7"))
    del document["student"]
    data = check_json(runner, write_answers(tmp_path / "s7", to_toml(document)), "--course", str(course_file))
    assert data["total"] == data["max_total"]


def test_check_english_output_names_a_varied_wrong_part(runner, course_file, tmp_path, problems) -> None:
    """`grade check` in English on the homework key under a varied id marks Q3 layer1.output_shape wrong."""
    path = write_answers(tmp_path / "s1", key_text(problems, "s1"))
    result = grade(runner, "check", str(path), "--course", str(course_file), "--problems", str(PROBLEMS),
                   "--lang", "en")
    assert result.exit_code == 0, result.output
    line = next(line for line in result.output.splitlines() if "layer1.output_shape" in line)
    assert "✗" in line and " wrong " in line and "Use floor((n − k) / s) + 1 per side" in line  # the English hint
    assert "Total:" in result.output


# --- grade run -------------------------------------------------------------------------------------------------


def scores(out: Path) -> dict[str, dict[str, str]]:
    """scores.csv by student id."""
    rows = csv.DictReader(io.StringIO((out / "scores.csv").read_text(encoding="utf-8")))
    return {row["student_id"]: row for row in rows}


@pytest.mark.parametrize("workers", ["0", "2"])
def test_class_run_grades_each_student_on_their_own_variant(runner, course_file, tmp_path, pool,
                                                            workers: str) -> None:
    """`grade run` gives two students full marks for their own keys, and less for each other's."""
    texts = {sid: key_text(pool.for_student(sid), sid) for sid in ("stu-1", "stu-2")}
    own, swapped = tmp_path / "own", tmp_path / "swapped"
    for sid, other in (("stu-1", "stu-2"), ("stu-2", "stu-1")):
        write_answers(own / sid, texts[sid])
        write_answers(swapped / sid, texts[other])
    for folder, full in ((own, True), (swapped, False)):
        out = tmp_path / f"out-{folder.name}"
        result = grade(runner, "run", str(folder), "--course", str(course_file), "--out", str(out),
                       "--workers", workers, "--problems", str(PROBLEMS), "--lang", "en", "-q")
        assert result.exit_code == 0, result.output
        rows = scores(out)
        assert set(rows) == {"stu-1", "stu-2"}
        for sid, row in rows.items():
            assert row["status"] == "graded", row
            assert (float(row["total"]) == float(row["max_total"])) is full, (folder.name, sid, row)
            if not full:
                assert float(row["q4"]) < 13.5 and float(row["q3"]) <= 6


# --- grade selftest --------------------------------------------------------------------------------------------


def copy_problems(tmp_path: Path) -> Path:
    """A copy of problems/ (without any tests.toml, so only the cases a test writes are run)."""
    copy_dir = tmp_path / "problems"
    shutil.copytree(PROBLEMS, copy_dir, ignore=shutil.ignore_patterns("tests.toml", "__pycache__"))
    return copy_dir


def test_selftest_on_a_few_variants_passes(runner, problems) -> None:
    """`grade selftest --variants 5` exits 0 and prints "all passed" for every problem."""
    result = grade(runner, "selftest", "--variants", "5", "--problems", str(PROBLEMS))
    assert result.exit_code == 0, result.output
    for problem in problems:
        line = next(line for line in result.output.splitlines() if line.startswith(f"{problem.id}:"))
        assert line.endswith("all passed"), line


def test_selftest_names_a_failing_case(runner, tmp_path) -> None:
    """A tests.toml case the key cannot meet (lost = 99) makes selftest exit 1 and name the case."""
    folder = copy_problems(tmp_path)
    (folder / "q3_cnn_shapes" / "tests.toml").write_text(
        '[[tests]]\nname = "deliberately broken: the key loses 99"\nanswers = "key"\nlost = 99\n', encoding="utf-8")
    result = grade(runner, "selftest", "--problems", str(folder), "--variants", "2")
    assert result.exit_code == 1
    assert "deliberately broken: the key loses 99" in result.output
    assert "FAIL q3 [homework]" in result.output and "expected 99" in result.output
    assert "q3: " in result.output and "3 failed" in result.output  # the homework and the 2 variants
    assert next(line for line in result.output.splitlines() if line.startswith("q4:")).endswith("all passed")


def test_selftest_reports_a_malformed_tests_file(runner, tmp_path) -> None:
    """A tests.toml with `answers = 5` makes selftest exit 1 with an error naming the file and the key."""
    folder = copy_problems(tmp_path)
    tests_file = folder / "q4_conv_backprop" / "tests.toml"
    tests_file.write_text('[[tests]]\nname = "bad"\nanswers = 5\n', encoding="utf-8")
    result = grade(runner, "selftest", "--problems", str(folder), "--variants", "2")
    assert result.exit_code == 1
    assert str(tests_file) in result.output
    assert "tests[0].answers" in result.output


def test_selftest_default_passes(runner) -> None:
    """`grade selftest` with its defaults (50 variants), as CI runs it, exits 0."""
    result = grade(runner, "selftest", "--problems", str(PROBLEMS))
    assert result.exit_code == 0, result.output
    assert "failed" not in result.output


def test_class_run_cache_follows_files_and_secret(runner, course_file, tmp_path, pool) -> None:
    """Rerunning into the same --out regrades swapped files and a changed secret instead of reusing old marks."""
    texts = {sid: key_text(pool.for_student(sid), sid) for sid in ("stu-1", "stu-2")}
    folder, out = tmp_path / "class", tmp_path / "out"
    for sid in texts:
        write_answers(folder / sid, texts[sid])

    def totals(course: Path) -> list[bool]:
        result = grade(runner, "run", str(folder), "--course", str(course), "--out", str(out), "--workers", "0",
                       "--problems", str(PROBLEMS), "-q")
        assert result.exit_code == 0, result.output
        return [float(r["total"]) == float(r["max_total"]) for _, r in sorted(scores(out).items())]

    assert totals(course_file) == [True, True]
    write_answers(folder / "stu-1", texts["stu-2"])
    write_answers(folder / "stu-2", texts["stu-1"])
    assert totals(course_file) == [False, False]
    write_answers(folder / "stu-1", texts["stu-1"])
    write_answers(folder / "stu-2", texts["stu-2"])
    assert totals(course_file) == [True, True]
    other = tmp_path / "course-other.toml"
    other.write_text(course_file.read_text(encoding="utf-8").replace(SECRET, SECRET + "-2"), encoding="utf-8")
    assert totals(other) == [False, False]


def _gradescope(tmp_path: Path, answers: str, course: Path, metadata: dict | None = None) -> dict:
    """Run the Gradescope entry point on one upload; its results.json."""
    from grader import autograder_gradescope

    root = tmp_path / "autograder"
    write_answers(root / "submission", answers)
    (root / "results").mkdir()
    if metadata is not None:
        (root / "submission_metadata.json").write_text(json.dumps(metadata), encoding="utf-8")
    autograder_gradescope.main(root / "submission", root / "results" / "results.json", PROBLEMS, course)
    return json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))


def test_gradescope_grades_with_the_submitters_roster_id(tmp_path, course_file, pool) -> None:
    """On Gradescope the submitter's sid picks the variant, whatever [student] id the file names."""
    answers = key_text(pool.for_student("s7"), "someone-else")
    results = _gradescope(tmp_path, answers, course_file, {"users": [{"sid": "s7", "email": "s7@uni"}]})
    assert results["score"] == 45.5


def test_gradescope_id_warning_names_the_roster_id(tmp_path, course_file, pool) -> None:
    """On Gradescope a [student] id other than the submitter's sid is reported against the roster, not a folder."""
    answers = key_text(pool.for_student("s7"), "someone-else")
    results = _gradescope(tmp_path, answers, course_file, {"users": [{"sid": "s7", "email": "s7@uni"}]})
    text = json.dumps(results, ensure_ascii=False)
    assert "you submitted as 's7' (the course roster's id)" in text and "submission folder" not in text


def test_gradescope_without_any_student_id_is_an_error_result(tmp_path, course_file, pool) -> None:
    """With variants on, an upload naming no student (no sid, no [student] id) gets an error asking for the id."""
    document = answer_key(pool.for_student("s7"))
    del document["student"]
    results = _gradescope(tmp_path, to_toml(document), course_file)
    assert results["score"] == 0 and "[student] id" in json.dumps(results, ensure_ascii=False)


def test_github_classroom_uses_the_declared_id(tmp_path, course_file, pool) -> None:
    """GitHub Classroom grades the repository's answers with the variant of its [student] id."""
    from grader.reporting import github_classroom

    repo = tmp_path / "repo"
    write_answers(repo, key_text(pool.for_student("s9"), "s9"))
    output = tmp_path / "out.txt"
    github_classroom.main([str(repo), "--problems", str(PROBLEMS), "--course", str(course_file),
                           "--output", str(output)])
    assert "45.5" in json.dumps(github_classroom_result(output))


def github_classroom_result(output: Path) -> dict:
    """The JSON result a `result=<base64>` line carries."""
    import base64

    line = output.read_text(encoding="utf-8").strip()
    return json.loads(base64.b64decode(line.split("=", 1)[1]))


def test_autograder_zip_packs_the_given_course_file(runner, tmp_path, course_file) -> None:
    """`grade autograder-zip --course C` packs C as course.toml; variants on without a secret are refused."""
    import zipfile

    zipped = tmp_path / "autograder.zip"
    assert grade(runner, "autograder-zip", "--out", str(zipped), "--course", str(course_file)).exit_code == 0
    with zipfile.ZipFile(zipped) as archive:
        assert archive.read("course.toml") == course_file.read_bytes()
    no_secret = tmp_path / "no-secret.toml"
    no_secret.write_text("[variants]\nenabled = true\n", encoding="utf-8")
    refused = runner.invoke(main, ["autograder-zip", "--out", str(tmp_path / "other.zip"), "--course", str(no_secret)])
    assert refused.exit_code == 1 and "secret" in refused.output and not (tmp_path / "other.zip").exists()
