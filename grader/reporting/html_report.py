"""The instructor's one-page report (``report.html``): summary, charts and a sortable table of students.

The page is self-contained: CSS and JavaScript are inline, charts are PNG
data URIs, and a Content-Security-Policy forbids loading anything else (the
inline style and script are allowed by their hashes only, so even a
mis-escaped student text could not run a script). Every text from results,
roster or course is HTML-escaped. The same results give the same bytes: no
timestamp unless one is passed in, and charts are rendered with fixed
settings and no PNG metadata.

matplotlib is imported only inside the chart function (``grade check`` and
the CSV writers never pay for it); it renders with the Agg canvas directly,
so no global backend is switched.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import re
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from urllib.parse import quote

from grader.course import Course
from grader.reporting.files import write_atomic
from grader.reporting.formatting import points
from grader.reporting.item_analysis import ClassSummary, ProblemMistake, class_summary, counted_submissions, \
    mistake_frequencies
from grader.results import BatchResult, Lang, Status
from grader.roster import Roster
from grader.safe_names import safe_file_name

TOP_MISTAKES = 10
HISTOGRAM_BINS = 10
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

LABELS: dict[str, dict[Lang, str]] = {
    "report": {Lang.EN: "Instructor report", Lang.FA: "گزارش مدرس"},
    "generated": {Lang.EN: "Generated", Lang.FA: "تاریخ تهیه"},
    "summary": {Lang.EN: "Summary", Lang.FA: "خلاصه"},
    "students": {Lang.EN: "Students", Lang.FA: "دانشجویان"},
    "graded": {Lang.EN: "Graded", Lang.FA: "نمره‌داده‌شده"},
    "partial": {Lang.EN: "Partly readable", Lang.FA: "بخشی خوانا"},
    "errors": {Lang.EN: "Unreadable files", Lang.FA: "پرونده ناخوانا"},
    "missing": {Lang.EN: "No submission", Lang.FA: "بدون پاسخ"},
    "mean": {Lang.EN: "Mean total", Lang.FA: "میانگین نمره کل"},
    "median": {Lang.EN: "Median total", Lang.FA: "میانه نمره کل"},
    "min": {Lang.EN: "Lowest total", Lang.FA: "کمترین نمره کل"},
    "max": {Lang.EN: "Highest total", Lang.FA: "بیشترین نمره کل"},
    "review": {Lang.EN: "Awaiting review", Lang.FA: "در انتظار بازبینی"},
    "review_detail": {Lang.EN: "parts, of {students} students",
                      Lang.FA: "بخش، از {students} دانشجو"},
    "totals_note": {Lang.EN: "Totals and charts count the {n} students whose file was read.",
                    Lang.FA: "نمره‌های کل و نمودارها فقط {n} دانشجویی را که پرونده‌شان خوانده شد در بر می‌گیرند."},
    "charts": {Lang.EN: "Charts", Lang.FA: "نمودارها"},
    "histogram": {Lang.EN: "Distribution of totals (points, out of {max})",
                  Lang.FA: "توزیع نمره‌های کل (امتیاز، از {max})"},
    "problem_means": {Lang.EN: "Mean score per problem, as % of its points",
                      Lang.FA: "میانگین نمره هر مسئله، به درصد از امتیاز آن"},
    "mistakes": {Lang.EN: "Most frequent diagnosed mistakes (students)",
                 Lang.FA: "پرتکرارترین اشتباه‌های شناخته‌شده (تعداد دانشجو)"},
    "no_data": {Lang.EN: "No data.", Lang.FA: "داده‌ای نیست."},
    "no_mistakes": {Lang.EN: "No diagnosed mistakes.", Lang.FA: "اشتباه شناخته‌شده‌ای نیست."},
    "table": {Lang.EN: "Students", Lang.FA: "دانشجویان"},
    "sort_hint": {Lang.EN: "Click a column header to sort; click again to reverse.",
                  Lang.FA: "برای مرتب‌سازی روی عنوان ستون بزنید؛ دوباره بزنید تا وارونه شود."},
    "student_id": {Lang.EN: "Student id", Lang.FA: "شناسه"},
    "name": {Lang.EN: "Name", Lang.FA: "نام"},
    "total": {Lang.EN: "Total", Lang.FA: "کل"},
    "status": {Lang.EN: "Status", Lang.FA: "وضعیت"},
    "review_column": {Lang.EN: "Review", Lang.FA: "بازبینی"},
    "feedback": {Lang.EN: "Feedback", Lang.FA: "بازخورد"},
    "open": {Lang.EN: "open", Lang.FA: "باز کن"},
}

STYLE = """
:root { color-scheme: light; --ink: #1d2733; --muted: #5b6775; --line: #d5dbe3; --accent: #2f5d8a; --band: #f4f6f9; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1200px; padding: 1.5rem; color: var(--ink); background: #fff;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Vazirmatn", Tahoma, sans-serif; }
h1 { margin: 0; font-size: 1.6rem; }
h2 { margin: 2rem 0 .75rem; font-size: 1.2rem; border-bottom: 1px solid var(--line); padding-bottom: .25rem; }
.subtitle, .note, .hint { color: var(--muted); margin: .25rem 0; }
.numbers { display: grid; grid-template-columns: repeat(auto-fill, minmax(11rem, 1fr)); gap: .75rem; margin: 0; }
.numbers div { background: var(--band); border-radius: 6px; padding: .6rem .8rem; }
.numbers dt { color: var(--muted); font-size: .85rem; }
.numbers dd { margin: 0; font-size: 1.35rem; font-weight: 600; }
.numbers dd small { font-size: .8rem; font-weight: 400; color: var(--muted); }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 1rem; }
.charts figure.wide { grid-column: 1 / -1; }
figure { margin: 0; border: 1px solid var(--line); border-radius: 6px; padding: .5rem; }
figure img { display: block; width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: .9rem; margin-top: .25rem; }
table { border-collapse: collapse; width: 100%; font-size: .92rem; }
th, td { border-bottom: 1px solid var(--line); padding: .35rem .5rem; text-align: start; }
td.number, th.number { text-align: end; font-variant-numeric: tabular-nums; }
thead th { position: sticky; top: 0; background: #fff; }
th button { all: unset; cursor: pointer; font-weight: 600; }
th button:focus-visible { outline: 2px solid var(--accent); }
th[aria-sort="ascending"] button::after { content: " \\25B2"; }
th[aria-sort="descending"] button::after { content: " \\25BC"; }
tbody tr:nth-child(even) { background: var(--band); }
tr.status-error td, tr.status-missing td { color: #8a2f2f; }
td.id { font-family: ui-monospace, "DejaVu Sans Mono", monospace; }
a { color: var(--accent); }
"""

SCRIPT = """
(function () {
  "use strict";
  var table = document.getElementById("students");
  if (!table) { return; }
  var headers = table.tHead.rows[0].cells;
  function value(row, index) {
    var cell = row.cells[index];
    var sortValue = cell.getAttribute("data-sort");
    return sortValue === null ? cell.textContent.trim() : sortValue;
  }
  function number(text) {
    var parsed = parseFloat(text);
    return isNaN(parsed) ? -Infinity : parsed;
  }
  function compare(a, b, index, numeric) {
    if (numeric) {
      var x = number(value(a, index)), y = number(value(b, index));
      return x < y ? -1 : (x > y ? 1 : 0);
    }
    return value(a, index).localeCompare(value(b, index));
  }
  function sortBy(index, ascending) {
    var numeric = headers[index].getAttribute("data-type") === "number";
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var order = compare(a, b, index, numeric);
      if (!ascending) { order = -order; }
      return order !== 0 ? order : compare(a, b, 0, false);
    });
    rows.forEach(function (row) { body.appendChild(row); });
    for (var i = 0; i < headers.length; i++) { headers[i].setAttribute("aria-sort", "none"); }
    headers[index].setAttribute("aria-sort", ascending ? "ascending" : "descending");
  }
  Array.prototype.forEach.call(headers, function (header, index) {
    var button = header.querySelector("button");
    if (!button) { return; }
    button.addEventListener("click", function () {
      sortBy(index, header.getAttribute("aria-sort") !== "ascending");
    });
  });
  var match = /^#sort=(-?)(.+)$/.exec(window.location.hash);
  if (match) {
    var key = "";
    try { key = decodeURIComponent(match[2]); } catch (error) { key = ""; }
    Array.prototype.forEach.call(headers, function (header, index) {
      if (header.getAttribute("data-key") === key) { sortBy(index, match[1] !== "-"); }
    });
  }
  table.setAttribute("data-sortable", "ready");
}());
"""


def _text(value: object) -> str:
    """Any text made safe for HTML content and attribute values."""
    return html.escape(_CONTROL.sub("\ufffd", str(value)), quote=True)


def _label(key: str, lang: Lang, **values: object) -> str:
    return _text(LABELS[key][lang].format(**values))


def _csp_hash(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode("utf-8")).digest()).decode("ascii") + "'"


def feedback_href(student_id: str, feedback_dir: str = "feedback") -> str:
    """The relative link to a student's feedback page, URL-escaped (not yet HTML-escaped).

    The file name is the one the feedback writer uses (:func:`grader.safe_names.safe_file_name`),
    which is the student id itself for ordinary ids.
    """
    folder = quote(feedback_dir.strip("/"), safe="/")
    name = quote(safe_file_name(student_id), safe="")
    return f"{folder}/{name}.html" if folder else f"{name}.html"


def _png(figure) -> str:
    """A matplotlib figure as a PNG data URI, without metadata (identical bytes for identical charts)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _plain(label: str) -> str:
    """A chart label with matplotlib's math markup switched off."""
    return label.replace("$", r"\$")


def render_charts(totals: Sequence[Fraction], max_total: Fraction,
                  problem_shares: Sequence[tuple[str, Fraction | None]],
                  mistakes: Sequence[ProblemMistake]) -> dict[str, str | None]:
    """The three charts as PNG data URIs (``None`` where there is nothing to draw).

    Args:
        totals: Students' totals, in points.
        max_total: Points possible (the histogram's range).
        problem_shares: ``(problem, mean share of its points)``, 0 to 1, or ``None`` when unknown.
        mistakes: Diagnoses to draw, most frequent first.

    Returns:
        ``{"histogram": ..., "problem_means": ..., "mistakes": ...}``.
    """
    import matplotlib
    import matplotlib.style
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    colour = "#2f5d8a"
    charts: dict[str, str | None] = {"histogram": None, "problem_means": None, "mistakes": None}
    with matplotlib.style.context("default"), matplotlib.rc_context({"font.size": 10}):
        if totals:
            figure = Figure(figsize=(5.6, 3.2), dpi=110, layout="constrained")
            FigureCanvasAgg(figure)
            axes = figure.add_subplot()
            upper = float(max_total) if max_total > 0 else max(float(t) for t in totals) or 1.0
            edges = [upper * i / HISTOGRAM_BINS for i in range(HISTOGRAM_BINS + 1)]
            axes.hist([min(float(t), upper) for t in totals], bins=edges, color=colour, edgecolor="white")
            axes.set_xlim(0, upper)
            axes.set_xlabel("total points")
            axes.set_ylabel("students")
            axes.yaxis.set_major_locator(MaxNLocator(integer=True))
            axes.spines[["top", "right"]].set_visible(False)
            charts["histogram"] = _png(figure)
        if problem_shares:
            figure = Figure(figsize=(5.6, 3.2), dpi=110, layout="constrained")
            FigureCanvasAgg(figure)
            axes = figure.add_subplot()
            labels = [_plain(problem) for problem, _ in problem_shares]
            values = [100 * float(share) if share is not None else 0.0 for _, share in problem_shares]
            bars = axes.bar(labels, values, color=colour)
            axes.bar_label(bars, labels=[f"{v:.0f}%" if s is not None else "–"
                                         for v, (_, s) in zip(values, problem_shares)], padding=2)
            axes.set_ylim(0, 110)
            axes.set_ylabel("% of points")
            axes.spines[["top", "right"]].set_visible(False)
            charts["problem_means"] = _png(figure)
        if mistakes:
            shown = list(mistakes)
            figure = Figure(figsize=(11, 0.9 + 0.3 * len(shown)), dpi=110, layout="constrained")
            FigureCanvasAgg(figure)
            axes = figure.add_subplot()
            positions = list(range(len(shown)))
            axes.barh(positions, [m.count for m in shown], color=colour)
            axes.set_yticks(positions, labels=[_plain(f"{m.problem}: {m.diagnosis}") for m in shown])
            axes.invert_yaxis()
            axes.set_xlabel("students")
            axes.xaxis.set_major_locator(MaxNLocator(integer=True))
            axes.spines[["top", "right"]].set_visible(False)
            charts["mistakes"] = _png(figure)
    return charts


def _figure(uri: str | None, caption: str, empty: str, wide: bool = False) -> str:
    kind = ' class="wide"' if wide else ""
    if uri is None:
        return f'<figure{kind}><p class="note">{empty}</p><figcaption>{caption}</figcaption></figure>'
    return f'<figure{kind}><img src="{uri}" alt="{caption}"><figcaption>{caption}</figcaption></figure>'


def _number_block(label: str, value: str, detail: str = "") -> str:
    small = f" <small>{detail}</small>" if detail else ""
    return f"<div><dt>{label}</dt><dd>{value}{small}</dd></div>"


def _short(value: Fraction) -> str:
    """Points for reading at a glance: at most 2 decimals."""
    text = f"{float(value):.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _summary_html(summary: ClassSummary, lang: Lang) -> str:
    def total(value: Fraction | None) -> str:
        if value is None:
            return "–"
        # "32.04 / 45.5" is read left to right on a right-to-left page too
        return f'<span dir="ltr">{_text(_short(value))} <small>/ {_text(points(summary.max_total))}</small></span>'

    blocks = [
        _number_block(_label("students", lang), str(summary.students)),
        _number_block(_label("graded", lang), str(summary.graded)),
        _number_block(_label("partial", lang), str(summary.partial)),
        _number_block(_label("errors", lang), str(summary.errors)),
        _number_block(_label("missing", lang), str(summary.missing)),
        _number_block(_label("mean", lang), total(summary.mean_total)),
        _number_block(_label("median", lang), total(summary.median_total)),
        _number_block(_label("min", lang), total(summary.min_total)),
        _number_block(_label("max", lang), total(summary.max_total_scored)),
        _number_block(_label("review", lang), str(summary.review_parts),
                      _label("review_detail", lang, students=summary.review_students)),
    ]
    return (f'<dl class="numbers" id="summary-numbers">{"".join(blocks)}</dl>'
            f'<p class="note">{_label("totals_note", lang, n=summary.counted)}</p>')


def _table_html(batch: BatchResult, roster: Roster | None, lang: Lang, feedback_dir: str) -> str:
    problem_ids = list(batch.max_scores)
    header = [("student_id", _label("student_id", lang), "text")]
    if roster is not None:
        header.append(("name", _label("name", lang), "text"))
    header += [(pid, _text(pid), "number") for pid in problem_ids]
    header += [("total", _label("total", lang), "number"), ("status", _label("status", lang), "text"),
               ("review", _label("review_column", lang), "number"), ("feedback", _label("feedback", lang), "none")]
    head_cells = []
    for key, label, kind in header:
        number_class = ' class="number"' if kind == "number" else ""
        if kind == "none":
            head_cells.append(f'<th scope="col" data-key="{_text(key)}">{label}</th>')
        else:
            head_cells.append(f'<th scope="col" data-key="{_text(key)}" data-type="{kind}" aria-sort="none"'
                              f'{number_class}><button type="button">{label}</button></th>')
    rows = []
    for result in sorted(batch.submissions, key=lambda r: r.student_id):
        scores = {p.problem: p.score for p in result.problems}
        cells = [f'<td class="id">{_text(result.student_id)}</td>']
        if roster is not None:
            student = roster.get(result.student_id)
            cells.append(f"<td>{_text(student.name if student else '')}</td>")
        for pid in problem_ids:
            score = scores.get(pid)
            shown = "" if score is None else _text(points(score))
            cells.append(f'<td class="number" data-sort="{shown}">{shown}</td>')
        total = _text(points(result.total))
        review = sum(p.status is Status.NEEDS_REVIEW for p in result.parts)
        cells.append(f'<td class="number" data-sort="{total}">{total}</td>')
        cells.append(f"<td>{_text(result.status.value)}</td>")
        cells.append(f'<td class="number" data-sort="{review}">{review or ""}</td>')
        href = _text(feedback_href(result.student_id, feedback_dir))
        cells.append(f'<td><a href="{href}">{_label("open", lang)}</a></td>')
        rows.append(f'<tr class="status-{_text(result.status.value)}" data-student="{_text(result.student_id)}">'
                    f'{"".join(cells)}</tr>')
    return (f'<table id="students"><thead><tr>{"".join(head_cells)}</tr></thead>'
            f'<tbody>\n{chr(10).join(rows)}\n</tbody></table>')


def render_html(batch: BatchResult, course: Course, roster: Roster | None = None, lang: Lang = Lang.EN,
                feedback_dir: str = "feedback", *, generated: str | None = None) -> str:
    """The report page as text.

    Args:
        batch: The class's results (after overrides and ``join_roster``, if any).
        course: Course and assignment names for the title.
        roster: Adds a name column.
        lang: Page language; ``fa`` makes the page right-to-left.
        feedback_dir: Folder of the students' feedback pages, relative to the report.
        generated: A date to show (none by default, so runs are byte-identical).
    """
    summary = class_summary(batch)
    counted = counted_submissions(batch)
    shares = [(pid, None if mean is None or not batch.max_scores[pid] else mean / batch.max_scores[pid])
              for pid, mean in summary.problem_means]
    charts = render_charts([r.total for r in counted], batch.max_total, shares,
                           mistake_frequencies(batch)[:TOP_MISTAKES])
    direction = "rtl" if lang is Lang.FA else "ltr"
    title = _text(f"{course.name} — {course.assignment}")
    csp = (f"default-src 'none'; img-src data:; style-src {_csp_hash(STYLE)}; script-src {_csp_hash(SCRIPT)}; "
           "base-uri 'none'; form-action 'none'")
    generated_line = f'<p class="note">{_label("generated", lang)}: {_text(generated)}</p>' if generated else ""
    figures = "".join([
        _figure(charts["histogram"], _label("histogram", lang, max=points(batch.max_total)), _label("no_data", lang)),
        _figure(charts["problem_means"], _label("problem_means", lang), _label("no_data", lang)),
        _figure(charts["mistakes"], _label("mistakes", lang), _label("no_mistakes", lang), wide=True),
    ])
    return f"""<!DOCTYPE html>
<html lang="{lang.value}" dir="{direction}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<title>{title} · {_label("report", lang)}</title>
<style>{STYLE}</style>
</head>
<body>
<header><h1>{title}</h1><p class="subtitle">{_label("report", lang)}</p>{generated_line}</header>
<section><h2>{_label("summary", lang)}</h2>
{_summary_html(summary, lang)}
</section>
<section><h2>{_label("charts", lang)}</h2>
<div class="charts">{figures}</div>
</section>
<section><h2>{_label("table", lang)}</h2>
<p class="hint">{_label("sort_hint", lang)}</p>
{_table_html(batch, roster, lang, feedback_dir)}
</section>
<script>{SCRIPT}</script>
</body>
</html>
"""


def write_html(path: Path, batch: BatchResult, course: Course, roster: Roster | None = None, lang: Lang = Lang.EN,
               feedback_dir: str = "feedback", *, generated: str | None = None) -> Path:
    """Write the report page to ``path`` atomically; returns ``path``.

    Args:
        path: The ``.html`` file to write (its folder is created).
        batch: The class's results (after overrides and ``join_roster``, if any).
        course: Course and assignment names for the title.
        roster: Adds a name column.
        lang: Page language; ``fa`` makes the page right-to-left.
        feedback_dir: Folder of the students' feedback pages, relative to the report's folder.
        generated: A date to show (none by default, so runs are byte-identical).
    """
    path = Path(path)
    write_atomic(path, render_html(batch, course, roster, lang, feedback_dir, generated=generated))
    return path
