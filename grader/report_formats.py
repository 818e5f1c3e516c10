"""The report files ``grade run`` can write (a light module: the CLI reads it at start-up)."""

from __future__ import annotations

import enum


class Format(enum.StrEnum):
    """Report files ``grade run`` can write."""

    CSV = "csv"            # scores.csv, parts.csv, similarity.csv
    FEEDBACK = "feedback"  # feedback/<id>.md and .html
    CANVAS = "canvas"      # canvas.csv: Canvas gradebook import
    MOODLE = "moodle"      # moodle.csv: Moodle grade import
    JUNIT = "junit"        # junit.xml: GitLab, Jenkins and other CI
    XLSX = "xlsx"          # report.xlsx: scores, parts, summary, item analysis, review queue
    HTML = "html"          # report.html: charts and a sortable table linking to feedback/
    GRADESCOPE = "gradescope"  # gradescope/<id>.json: each student's results.json, as the autograder writes it


DEFAULT_FORMATS = (Format.CSV, Format.FEEDBACK)


DEFAULT_EXCLUDED = ("answer-key", "seed-writeup")
"""Left out of the similarity report by default: the key and the sample write-up: every answer resembles them a little."""
