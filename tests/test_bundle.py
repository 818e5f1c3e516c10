"""The student bundle: an offline `grade check` that knows the answers only as salted hashes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader import hashed
from grader.answer_key import answer_key, key_value, to_toml
from grader.bundle import build_bundle
from grader.cli import main
from grader.course import Course, Lang
from grader.hashed import HashedSolver
from grader.problems import load_problems
from grader.spec import AnswerKind
from grader.variants import Variants

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bundle-test-secret-5c1e"
STUDENT = "s4021"
COURSE = Course(lang=Lang.EN, variants=True, secret=SECRET)


@pytest.fixture(scope="module")
def problems():
    return load_problems(ROOT / "problems")


@pytest.fixture(scope="module")
def own(problems):
    """The student's own problems (their variant), from the real solvers."""
    return Variants(problems, SECRET, COURSE.assignment).for_student(STUDENT)


@pytest.fixture(scope="module")
def bundle(problems, tmp_path_factory):
    """A student bundle, hashed at a low scrypt cost so the tests stay fast."""
    out = tmp_path_factory.mktemp("bundle")
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(hashed.SCRYPT, "n", 2**10)
        build_bundle(problems, COURSE, out, STUDENT)
    return out


def _key_document(own) -> dict:
    document = answer_key(own)
    document["student"] = {"id": STUDENT}
    return document


def _check_offline(bundle: Path, document: dict, tmp_path: Path) -> dict:
    """Run the bundle's own grader (not the repository's) on answers, as a student would."""
    answers = tmp_path / "answers.toml"
    answers.write_text(to_toml(document), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(bundle)}
    done = subprocess.run([sys.executable, "-m", "grader.cli", "check", str(answers), "--json", "--lang", "en"],
                          cwd=bundle, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _parts(result: dict) -> dict[tuple[str, str], dict]:
    return {(p["problem"], part["part"]): part for p in result["problems"] for part in p["parts"]}


def test_bundle_runs_its_own_grader_without_solvers(bundle):
    """The bundle holds the grader package and checks.json per problem, and no solver or question tests."""
    assert (bundle / "grader" / "cli.py").is_file()
    assert (bundle / "pyproject.toml").is_file() and (bundle / "README.md").is_file()
    folders = sorted(p for p in (bundle / "problems").iterdir())
    assert [f.name.split("_")[0] for f in folders] == ["q1", "q2a", "q2b", "q3", "q4"]
    for folder in folders:
        assert (folder / "checks.json").is_file() and (folder / "problem.toml").is_file()
        assert not (folder / "solver.py").exists() and not (folder / "tests.toml").exists()


def test_bundle_key_scores_full_marks_offline(bundle, own, tmp_path):
    """The student's own key, checked with the bundle alone, is right in every part."""
    result = _check_offline(bundle, _key_document(own), tmp_path)
    assert result["total"] == result["max_total"] == 45.5
    assert all(part["status"] == "correct" for part in _parts(result).values())


def test_bundle_wrong_answers_are_wrong_offline(bundle, own, tmp_path):
    """A changed entry makes exactly that part wrong offline; the other parts stay right."""
    document = _key_document(own)
    document["q3"]["layers"][0]["params"] += 1
    document["q4"]["dL_dF"][0][0] = key_value(Fraction(str(document["q4"]["dL_dF"][0][0])) + 3)
    document["q4"]["formulas"]["dL_dX11"] = "X11 + F22"
    parts = _parts(_check_offline(bundle, document, tmp_path))
    wrong = {key for key, part in parts.items() if part["status"] != "correct"}
    assert wrong == {("q3", "layer1.params"), ("q4", "dL_dF"), ("q4", "formulas.dL_dX11")}
    assert all(parts[key]["score"] == 0 for key in wrong)


def test_bundle_names_a_known_mistake_offline(bundle, own, tmp_path):
    """The answers of a flipped kernel are diagnosed offline from the mistake's hashes."""
    q4 = next(p for p in own if p.id == "q4")
    document = _key_document(own)
    for part in q4.spec.parts:
        if part.answer_text.startswith("formulas.dL_dX"):
            document["q4"]["formulas"][part.answer_text.split(".")[1]] = key_value(
                q4.mistaken["kernel_flipped"][part.answer_text])
    parts = _parts(_check_offline(bundle, document, tmp_path))
    flipped = [part for (problem, name), part in parts.items() if name.startswith("formulas.dL_dX")]
    assert any("flipped" in part["feedback"] for part in flipped)
    assert all(part["score"] < part["max_score"] for part in flipped if "flipped" in part["feedback"])


def test_bundle_formula_with_upstream_values_written_in_is_right(bundle, own, tmp_path):
    """A formula with dL/dO's values written in (1/4) is right offline, as the grader accepts it."""
    q4 = next(p for p in own if p.id == "q4")
    document = _key_document(own)
    document["q4"]["formulas"]["dL_dF11"] = key_value(replace(
        q4.expected["formulas.dL_dF11"], expr=q4.expected["formulas.dL_dF11"].substituted))
    assert "dL_dO" not in document["q4"]["formulas"]["dL_dF11"]
    parts = _parts(_check_offline(bundle, document, tmp_path))
    assert parts[("q4", "formulas.dL_dF11")]["status"] == "correct"


def _key_texts(own) -> set[str]:
    """Distinctive ways the key's values could be written in a file."""
    texts = set()
    for problem in own:
        for part in problem.spec.parts:
            value = key_value(problem.expected[part.answer_text])
            if part.kind is AnswerKind.TEXT:
                texts.update(line.strip()[:60] for line in value.splitlines() if len(line.strip()) > 40)
            elif part.kind is AnswerKind.FORMULA:
                texts.add(value)
            elif isinstance(value, list):
                texts.add(json.dumps(value))
                texts.add(json.dumps(value, separators=(",", ":")))
            elif isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 100:
                texts.add(str(value))
    return texts


def test_bundle_files_hold_none_of_the_keys_values(bundle, own):
    """No file of the bundle contains a key value: matrices, shapes, formulas, large counts, model essays."""
    texts = _key_texts(own)
    assert len(texts) > 20
    for path in bundle.rglob("*"):
        if not path.is_file() or path.suffix == ".pyc":
            continue
        content = path.read_text(encoding="utf-8")
        for text in texts:
            # A count is found where it stands as a number, not inside a hex digest ("...a1792f...", which the
            # 15,000 random hex digits of the checks hold by chance in about one build in thirty).
            found = re.search(rf"(?<![\w.]){re.escape(text)}(?![\w.])", content) if text.isdigit() else text in content
            assert not found, f"{text!r} found in {path.relative_to(bundle)}"


def test_bundle_never_holds_the_secret(bundle):
    """The variant secret is in no file, and the bundle's course.toml turns variants off."""
    for path in bundle.rglob("*"):
        if path.is_file() and path.suffix != ".pyc":
            assert SECRET not in path.read_text(encoding="utf-8")
    course = (bundle / "course.toml").read_text(encoding="utf-8")
    assert "enabled = false" in course and "secret" not in course


def test_bundle_essay_scores_as_the_grader_does(bundle, problems, tmp_path):
    """Essays are graded offline by the same rubrics (model answers removed) with the same score."""
    from grader.engine import grade_problem
    from grader.submission import SubmissionFolder, read_submission

    seed = read_submission(SubmissionFolder("seed", ROOT / "submissions" / "seed-writeup")).data
    document = {"student": {"id": STUDENT}, "q1": seed["q1"], "q2a": seed["q2a"]}
    parts = _parts(_check_offline(bundle, document, tmp_path))
    for problem in problems:
        if problem.id in ("q1", "q2a"):
            online, _ = grade_problem(problem, seed[problem.id])
            assert [parts[(problem.id, p.part)]["score"] for p in online.parts] == [float(p.score) for p in online.parts]
    rubric = (bundle / "problems" / "q1_capsnet" / "rubric.toml").read_text(encoding="utf-8")
    assert "not in the student bundle" in rubric


def test_new_bundles_use_a_slow_hash():
    """Bundles are hashed with scrypt at n = 2**14, r = 8: each guess costs tens of milliseconds."""
    assert hashed.SCRYPT == {"n": 2**14, "r": 8, "p": 1}


def test_checks_file_errors_name_the_file(tmp_path):
    """A broken checks.json is a SpecError that names the file."""
    broken = tmp_path / "checks.json"
    broken.write_text('{"format": 1}', encoding="utf-8")
    with pytest.raises(Exception) as error:
        HashedSolver(broken)
    assert "checks.json" in str(error.value)


def test_bundle_command_needs_a_student_when_variants_are_on(tmp_path):
    """With variants on, `grade bundle --students` without --student or --roster is a usage error."""
    course = tmp_path / "course.toml"
    course.write_text(f'[variants]\nenabled = true\nsecret = "{SECRET}"\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["bundle", "--students", "--course", str(course), "--out", str(tmp_path / "b")])
    assert result.exit_code == 2 and "--student" in result.output


def test_bundle_never_writes_into_a_folder_that_is_not_a_bundle(problems, tmp_path, monkeypatch):
    """A non-empty folder that no bundle made is refused (its grader/ would be replaced); a bundle is rebuilt."""
    from grader.errors import GraderError

    monkeypatch.setitem(hashed.SCRYPT, "n", 2**10)
    project = tmp_path / "project"
    (project / "grader").mkdir(parents=True)
    (project / "grader" / "keep.py").write_text("# mine\n", encoding="utf-8")
    with pytest.raises(GraderError, match="not a bundle"):
        build_bundle(problems, Course(), project)
    assert (project / "grader" / "keep.py").is_file()
    out = tmp_path / "bundle"
    build_bundle(problems, Course(), out)
    build_bundle(problems, Course(), out)
    assert (out / "problems" / "q4_conv_backprop" / "checks.json").is_file()
