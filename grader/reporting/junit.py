"""JUnit XML for CI test reports (GitLab's ``artifacts:reports:junit``, Jenkins' JUnit plugin).

Layout: ``<testsuites>`` holding **one ``<testsuite>`` per student**, named by
the student id, with **one ``<testcase>`` per graded part**: ``classname`` is
``"<student>.<problem>"`` and ``name`` the part (``layer1.params``).

Why per student: GitLab's test report lists suites and opens one to show its
cases, so an instructor clicks a student and sees that student's parts with
their failures; Jenkins splits ``classname`` at its last dot into package and
class, so it shows student > problem > part. (One suite per problem would
mix every student's answers to a problem into one list of hundreds of cases.)
A student id that itself holds dots makes Jenkins show a deeper package
path; nothing is lost.

What each part becomes:

- full score: a passing test case (no child element);
- ``needs_review``: ``<skipped message="...">``: the machine has not decided,
  the instructor must, so it is neither a pass nor a failure;
- ``error`` (the answers file could not be read) and ``invalid`` (the value
  could not be read): ``<error message="..." type="<status>">``: the part
  could not be graded;
- anything else short of full marks (``partial``, ``wrong``, ``missing``):
  ``<failure message="..." type="<status>">``, the message holding the score
  and the feedback.

Each suite's ``<properties>`` hold the student's ``score``, ``max_score`` and
``status``. No times or timestamps are written, so the output is
byte-identical across runs.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from typing import TextIO

from grader.reporting.formatting import feedback_text, points
from grader.results import BatchResult, Lang, PartResult, Status, SubmissionResult

ERROR_STATUSES = frozenset({Status.ERROR, Status.INVALID})
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot hold (control characters, lone surrogates), as U+FFFD."""
    return _NOT_XML.sub("\ufffd", text)


def _outcome(part: PartResult) -> str:
    """``passed``, ``skipped``, ``error`` or ``failure`` for one part (see the module docstring)."""
    if part.status is Status.NEEDS_REVIEW:
        return "skipped"
    if part.status in ERROR_STATUSES:
        return "error"
    return "passed" if part.score >= part.max_score else "failure"


def _message(part: PartResult, lang: Lang) -> str:
    text = feedback_text(part.feedback, lang)
    head = f"{points(part.score)}/{points(part.max_score)} {part.status.value}"
    return _xml_text(f"{head}: {text}" if text else head)


_COUNTED = {"skipped": "skipped", "error": "errors", "failure": "failures"}
"""The count each outcome but ``passed`` adds to."""
_COUNTS = ("tests", "failures", "errors", "skipped")


def _counts(result: SubmissionResult) -> dict[str, int]:
    """A student's test cases, and how many of them failed, could not be graded, or were skipped."""
    counts = dict.fromkeys(_COUNTS, 0)
    counts["tests"] = len(result.parts)
    for part in result.parts:
        outcome = _outcome(part)
        if outcome != "passed":
            counts[_COUNTED[outcome]] += 1
    return counts


def _suite(result: SubmissionResult, counts: dict[str, int], max_total: str, lang: Lang) -> ET.Element:
    """A student's suite (``counts``: its :func:`_counts`)."""
    student = _xml_text(result.student_id)
    suite = ET.Element("testsuite", {"name": student})
    properties = ET.SubElement(suite, "properties")
    for name, value in (("score", points(result.total)), ("max_score", max_total), ("status", result.status.value)):
        ET.SubElement(properties, "property", {"name": name, "value": value})
    for part in sorted(result.parts, key=lambda p: (p.problem, p.part)):
        case = ET.SubElement(suite, "testcase", {"classname": f"{student}.{part.problem}",
                                                 "name": _xml_text(part.part)})
        outcome = _outcome(part)
        if outcome == "passed":
            continue
        attributes = {"message": _message(part, lang)}
        if outcome != "skipped":
            attributes["type"] = part.status.value
        child = ET.SubElement(case, outcome, attributes)
        if outcome != "skipped":
            child.text = attributes["message"]
    for key, count in counts.items():
        suite.set(key, str(count))
    return suite


def write_junit(file: TextIO, batch: BatchResult, lang: Lang = Lang.EN) -> None:
    """Write the class's parts as a JUnit XML report (:func:`junit_xml`'s text) to ``file``, a student's
    suite at a time: a class of 10,000 makes a file of some 100 MB, whose tree would take five times that.

    Args:
        file: Where the text goes.
        batch: The graded class.
        lang: Language of the failure messages.
    """
    results = sorted(batch.submissions, key=lambda r: r.student_id)
    root = ET.Element("testsuites", {"name": "hw-grader"})
    counts = [_counts(result) for result in results]  # the totals come first, in the root's attributes
    for key in _COUNTS:
        root.set(key, str(sum(c[key] for c in counts)))
    file.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    if not results:
        file.write(ET.tostring(root, encoding="unicode") + "\n")
        return
    # Laid out as ET.indent(root) would lay the whole tree out: each suite indented one level in,
    # followed by the next one's indentation, the last by the root's closing tag.
    root.text = "\n  "
    opening = ET.tostring(root, encoding="unicode").removesuffix("</testsuites>")
    file.write(opening)
    max_total = points(batch.max_total)
    for number, (result, result_counts) in enumerate(zip(results, counts), start=1):
        suite = _suite(result, result_counts, max_total, lang)
        ET.indent(suite, level=1)
        suite.tail = "\n" if number == len(results) else "\n  "
        file.write(ET.tostring(suite, encoding="unicode"))
    file.write("</testsuites>\n")


def junit_xml(batch: BatchResult, lang: Lang = Lang.EN) -> str:
    """The class's parts as a JUnit XML report.

    Args:
        batch: The graded class.
        lang: Language of the failure messages.

    Returns:
        An XML document (UTF-8 declaration, Unix line ends): ``<testsuites>``
        with totals, one ``<testsuite>`` per student sorted by id, one
        ``<testcase>`` per part sorted by problem then part.
    """
    text = io.StringIO()
    write_junit(text, batch, lang)
    return text.getvalue()
