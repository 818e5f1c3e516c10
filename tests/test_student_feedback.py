"""Student-facing output: feedback files, the reveal policy, grade check's exit codes."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from grader.cli import main
from grader.course import Course, Reveal, load_course
from grader.errors import SpecError
from grader.reporting.feedback_files import feedback_html, feedback_markdown
from grader.reporting.student_view import student_view, view_dict
from grader.results import Lang
from grader.safe_names import safe_file_name
from tests.conftest import PROBLEMS, SUBMISSIONS
from tests.helpers import grade_path


@pytest.fixture(scope="module")
def no_bias(problems):
    """The graded mistake-no-bias sample."""
    return grade_path(SUBMISSIONS / "mistake-no-bias", problems).submissions[0]


@pytest.mark.parametrize("reveal, status, feedback, expected", [
    (Reveal.SCORE, False, False, False),
    (Reveal.STATUS, True, False, False),
    (Reveal.FEEDBACK, True, True, False),
    (Reveal.ANSWER, True, True, True),
])
def test_reveal_levels(problems, no_bias, reveal, status, feedback, expected) -> None:
    """Each reveal level shows exactly the score, status, feedback and expected answer it allows."""
    data = view_dict(student_view(no_bias, problems, reveal, Lang.EN), Lang.EN)
    parts = [p for problem in data["problems"] for p in problem["parts"]]
    assert all("score" in p for p in parts)
    assert all(("status" in p) is status and ("feedback" in p) is feedback for p in parts)
    assert any("expected" in p for p in parts) is expected


def test_default_reveals_no_expected_values(problems, no_bias) -> None:
    """The default course setting shows feedback but not the key's values."""
    view = student_view(no_bias, problems, Course().reveal, Lang.EN)
    text = feedback_markdown(view, "Homework 7", Lang.EN)
    assert "without the biases" in text and "4864" not in text


def test_answer_level_shows_the_key(problems, no_bias) -> None:
    """With reveal = answer the expected parameter count appears."""
    view = student_view(no_bias, problems, Reveal.ANSWER, Lang.EN)
    assert "4864" in feedback_markdown(view, "Homework 7", Lang.EN)


def test_persian_html_is_right_to_left(problems, no_bias) -> None:
    """Persian feedback pages are dir=rtl, lang=fa, with Persian words and statuses."""
    page = feedback_html(student_view(no_bias, problems, Reveal.FEEDBACK, Lang.FA), "تمرین ۷", Lang.FA)
    assert '<html lang="fa" dir="rtl">' in page and "بایاس" in page and "نیمه‌درست" in page


def test_html_escapes_student_text(problems, tmp_path) -> None:
    """A hostile student id is escaped in the page."""
    folder = tmp_path / "<script>x"
    folder.mkdir()
    (folder / "answers.toml").write_text("[q3]\nlayers = []\n", encoding="utf-8")
    result = grade_path(folder, problems).submissions[0]
    page = feedback_html(student_view(result, problems, Reveal.FEEDBACK, Lang.EN), "HW", Lang.EN)
    assert "<script>x" not in page and "&lt;script&gt;x" in page


def test_run_writes_feedback_files(tmp_path) -> None:
    """`grade run` writes feedback/<id>.md and .html for every student."""
    result = CliRunner().invoke(main, [str(SUBMISSIONS), "--out", str(tmp_path), "--problems", str(PROBLEMS), "-q"])
    assert result.exit_code == 0, result.output
    students = sorted(p.name for p in SUBMISSIONS.iterdir() if p.is_dir())
    assert sorted(p.stem for p in (tmp_path / "feedback").glob("*.md")) == students
    assert sorted(p.stem for p in (tmp_path / "feedback").glob("*.html")) == students


@pytest.mark.parametrize("minimum, code", [("40", 0), ("45", 3)])
def test_check_min_score(minimum, code) -> None:
    """`grade check --min-score N` exits 3 below N and 0 at or above it."""
    result = CliRunner().invoke(main, ["check", str(SUBMISSIONS / "mistake-no-bias"), "--problems", str(PROBLEMS),
                                       "--min-score", minimum])
    assert result.exit_code == code


def test_check_json_follows_reveal(tmp_path) -> None:
    """`grade check --json` under a score-only course shows no feedback."""
    course = tmp_path / "course.toml"
    course.write_text('[feedback]\nreveal = "score"\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["check", str(SUBMISSIONS / "mistake-no-bias"), "--json", "--problems",
                                       str(PROBLEMS), "--course", str(course)])
    parts = [p for problem in json.loads(result.output)["problems"] for p in problem["parts"]]
    assert parts and not any("feedback" in p or "status" in p for p in parts)


@pytest.mark.parametrize("text, key", [
    ('[feedback]\nreveal = "everything"\n', "feedback.reveal"),
    ('[feedback]\nlang = "de"\n', "feedback.lang"),
    ('[course]\nname = 7\n', "course.name"),
])
def test_bad_course_settings_name_the_key(tmp_path, text, key) -> None:
    """A bad course.toml raises SpecError naming the key."""
    path = tmp_path / "course.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SpecError, match=key.replace(".", r"\.")):
        load_course(path)


@pytest.mark.parametrize("student_id", ["../x", "a/b", "x\x00y", "..", ".hidden", "", "a" * 300, "CON:"])
def test_safe_file_names_stay_in_their_folder(student_id) -> None:
    """File names from hostile ids hold no path separators, NUL or leading dots, and differ from the id."""
    name = safe_file_name(student_id)
    assert "/" not in name and "\x00" not in name and not name.startswith(".") and 0 < len(name) <= 100
    assert name != student_id


@pytest.mark.parametrize("student_id", ["s001", "seed-writeup", "علی_۱", "a.b"])
def test_safe_ids_are_kept(student_id) -> None:
    """An id that is already a safe file name is used as it is."""
    assert safe_file_name(student_id) == student_id


def test_safe_file_names_do_not_collide() -> None:
    """Two ids that clean to the same text get different file names."""
    assert safe_file_name("a/b") != safe_file_name("a_b") and safe_file_name("a?b") != safe_file_name("a*b")


class Forgetful:
    """A memo that remembers nothing: what is made with it is made afresh."""

    def get(self, owner, extra, make):
        return make()


def test_views_of_shared_parts_are_those_made_afresh(problems, monkeypatch) -> None:
    """Views of results whose parts are shared (read back from JSON, as a class run reads its workers'),
    taken at every reveal level, in both languages and with other expected answers, equal views made without
    remembering any part's view."""
    from grader.reporting import student_view as student_view_module
    from grader.results_io import from_json, to_json

    graded = grade_path(SUBMISSIONS, problems).submissions
    results = [from_json(to_json(result)) for result in graded + graded]  # each part twice at least
    assert results[0].parts[-1] is results[len(graded)].parts[-1]  # shared, as the run's are
    other = {key: "another answer" for key in student_view_module.expected_answers(problems)}
    settings = [(reveal, lang, expected) for reveal in Reveal for lang in Lang for expected in (None, other)]
    remembered = [student_view(r, problems, *setting) for setting in settings for r in results]

    monkeypatch.setattr(student_view_module, "_PART_VIEWS", Forgetful())
    assert remembered == [student_view(r, problems, *setting) for setting in settings for r in results]


def test_feedback_files_of_shared_parts_are_those_made_afresh(problems, monkeypatch) -> None:
    """Feedback files of results whose parts are shared, at every reveal level, in both languages, with and
    without the expected answers' column, equal files made without remembering any part's row."""
    from grader.reporting import feedback_files as feedback_files_module
    from grader.reporting.student_view import expected_answers
    from grader.results_io import from_json, to_json

    graded = grade_path(SUBMISSIONS, problems).submissions
    results = [from_json(to_json(result)) for result in graded + graded]  # each part twice at least
    expected = expected_answers(problems)
    views = [student_view(r, problems, reveal, lang, expected) for reveal in Reveal for lang in Lang for r in results]
    assert any(p.expected is not None for view in views for p in view.parts)
    assert any(p.expected is None for view in views for p in view.parts)

    def files() -> list[str]:
        return [page for view in views for lang in Lang
                for page in (feedback_markdown(view, "HW7", lang), feedback_html(view, "HW7", lang))]

    remembered = files()
    assert len(feedback_files_module._ROWS._entries) > 0

    monkeypatch.setattr(feedback_files_module, "_ROWS", Forgetful())
    assert remembered == files()
