"""Course settings (``course.toml``): names, feedback language, and what students are shown."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path

from grader.errors import SpecError
from grader.results import Lang
from grader.toml_files import read_toml

COURSE_FILE = "course.toml"


class Reveal(enum.IntEnum):
    """What a student is shown of a part, each level including the ones before it."""

    SCORE = 1
    STATUS = 2
    FEEDBACK = 3
    ANSWER = 4


@dataclass(frozen=True)
class Course:
    """The course's settings.

    Attributes:
        name: Course name shown in reports.
        assignment: Assignment name (the LMS column, the report titles).
        lang: Default language of student feedback.
        reveal: What feedback files and ``grade check`` show students; the
            default reveals no expected values.
    """

    name: str = "Deep Learning"
    assignment: str = "Homework 7"
    lang: Lang = Lang.EN
    reveal: Reveal = Reveal.FEEDBACK


def load_course(path: Path | None) -> Course:
    """Read ``course.toml``; without a file, the defaults.

    Raises:
        SpecError: Naming the file and key of a bad setting.
    """
    if path is None or not path.is_file():
        return Course()
    data = read_toml(path)
    course = data.get("course", {})
    feedback = data.get("feedback", {})
    if not isinstance(course, dict) or not isinstance(feedback, dict):
        raise SpecError(path, "course" if not isinstance(course, dict) else "feedback", "expected a table")
    try:
        lang = Lang(feedback.get("lang", Course.lang.value))
    except ValueError:
        raise SpecError(path, "feedback.lang", "must be 'en' or 'fa'") from None
    reveal_text = str(feedback.get("reveal", Reveal.FEEDBACK.name.lower()))
    if reveal_text.upper() not in Reveal.__members__:
        choices = ", ".join(r.name.lower() for r in Reveal)
        raise SpecError(path, "feedback.reveal", f"must be one of {choices}; got {reveal_text!r}")
    for key in ("name", "assignment"):
        if key in course and not isinstance(course[key], str):
            raise SpecError(path, f"course.{key}", "must be a string")
    return Course(course.get("name", Course.name), course.get("assignment", Course.assignment), lang,
                  Reveal[reveal_text.upper()])
