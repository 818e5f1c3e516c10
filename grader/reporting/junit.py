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

import re
import xml.etree.ElementTree as ET

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


def _suite(result: SubmissionResult, max_total: str, lang: Lang) -> tuple[ET.Element, dict[str, int]]:
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    student = _xml_text(result.student_id)
    suite = ET.Element("testsuite", {"name": student})
    properties = ET.SubElement(suite, "properties")
    for name, value in (("score", points(result.total)), ("max_score", max_total), ("status", result.status.value)):
        ET.SubElement(properties, "property", {"name": name, "value": value})
    for part in sorted(result.parts, key=lambda p: (p.problem, p.part)):
        case = ET.SubElement(suite, "testcase", {"classname": f"{student}.{part.problem}",
                                                 "name": _xml_text(part.part)})
        counts["tests"] += 1
        outcome = _outcome(part)
        if outcome == "passed":
            continue
        element = {"skipped": "skipped", "error": "error", "failure": "failure"}[outcome]
        counts[{"skipped": "skipped", "error": "errors", "failure": "failures"}[outcome]] += 1
        attributes = {"message": _message(part, lang)}
        if element != "skipped":
            attributes["type"] = part.status.value
        child = ET.SubElement(case, element, attributes)
        if element != "skipped":
            child.text = attributes["message"]
    for key in ("tests", "failures", "errors", "skipped"):
        suite.set(key, str(counts[key]))
    return suite, counts


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
    root = ET.Element("testsuites", {"name": "hw-grader"})
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    max_total = points(batch.max_total)
    for result in sorted(batch.submissions, key=lambda r: r.student_id):
        suite, counts = _suite(result, max_total, lang)
        root.append(suite)
        for key in totals:
            totals[key] += counts[key]
    for key in ("tests", "failures", "errors", "skipped"):
        root.set(key, str(totals[key]))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
