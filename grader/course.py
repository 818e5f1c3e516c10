"""Course settings (``course.toml``): names, feedback language, and what students are shown."""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from grader.errors import GraderError, SpecError
from grader.results import Lang
from grader.toml_files import read_toml

COURSE_FILE = "course.toml"
SECRET_ENV = "GRADER_SECRET"
"""Environment variable that holds the variant secret (so it need not be in course.toml)."""


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
        check_reveal: What ``grade check`` shows (``[check] reveal``; by
            default the same as ``reveal``).
        variants: Whether each student gets their own numbers.
        secret: The secret the numbers are drawn from (kept from students;
            ``$GRADER_SECRET`` overrides it).
    """

    name: str = "Deep Learning"
    assignment: str = "Homework 7"
    lang: Lang = Lang.EN
    reveal: Reveal = Reveal.FEEDBACK
    check_reveal: Reveal = Reveal.FEEDBACK
    variants: bool = False
    secret: str = field(default="", repr=False)

    @property
    def variant_secret(self) -> str:
        """The secret variants are drawn from: ``$GRADER_SECRET`` when set, else course.toml's.

        Raises:
            GraderError: When variants are on and no secret is set.
        """
        secret = os.environ.get(SECRET_ENV) or self.secret
        if not secret:
            raise GraderError(f"variants need a secret: set [variants] secret in {COURSE_FILE} "
                              f"or the environment variable {SECRET_ENV}")
        return secret


def load_course(path: Path | None) -> Course:
    """Read ``course.toml``; without a file, the defaults.

    Raises:
        SpecError: Naming the file and key of a bad setting.
    """
    if path is None or not path.is_file():
        return Course()
    data = read_toml(path)
    tables = {}
    for name in ("course", "feedback", "check", "variants"):
        tables[name] = data.get(name, {})
        if not isinstance(tables[name], dict):
            raise SpecError(path, name, "expected a table")
    course, feedback, variants = tables["course"], tables["feedback"], tables["variants"]
    try:
        lang = Lang(feedback.get("lang", Course.lang.value))
    except ValueError:
        raise SpecError(path, "feedback.lang", "must be 'en' or 'fa'") from None
    reveal = _reveal(path, "feedback.reveal", feedback, Reveal.FEEDBACK)
    for key in ("name", "assignment"):
        if key in course and not isinstance(course[key], str):
            raise SpecError(path, f"course.{key}", "must be a string")
    if not isinstance(variants.get("enabled", False), bool):
        raise SpecError(path, "variants.enabled", "must be true or false")
    if not isinstance(variants.get("secret", ""), str):
        raise SpecError(path, "variants.secret", "must be a string")
    return Course(course.get("name", Course.name), course.get("assignment", Course.assignment), lang, reveal,
                  _reveal(path, "check.reveal", tables["check"], reveal), variants.get("enabled", False),
                  variants.get("secret", ""))


def _reveal(path: Path, key: str, table: Mapping[str, Any], default: Reveal) -> Reveal:
    text = str(table.get(key.rsplit(".", 1)[1], default.name.lower()))
    if text.upper() not in Reveal.__members__:
        choices = ", ".join(r.name.lower() for r in Reveal)
        raise SpecError(path, key, f"must be one of {choices}; got {text!r}")
    return Reveal[text.upper()]
