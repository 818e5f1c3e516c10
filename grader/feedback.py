"""The engine's own feedback messages, in English and Persian."""

from __future__ import annotations

from grader.results import Message
from grader.submission import IdSource

CORRECT = Message("Correct.", "درست است.")
WRONG = Message("Not correct.", "درست نیست.")
TOO_MUCH_MEMORY = Message(
    "Grading used too much memory: an answer is far too large; make it smaller and resubmit.",
    "نمره‌دهی حافظه بیش از حد مصرف کرد: یکی از پاسخ‌ها بسیار بزرگ است؛ آن را کوچک کنید و دوباره بفرستید.")
CARRIED_FORWARD = Message(
    "Not the expected value, but right for your own earlier answer: the error came from an earlier part.",
    "با مقدار مورد انتظار برابر نیست، اما با پاسخ قبلی خودتان درست محاسبه شده است: خطا از قسمت قبلی آمده است.",
)


def missing(path: str) -> Message:
    """No answer was given at ``path``."""
    return Message(f"No answer: the key {path} is missing.", f"پاسخی داده نشده است: کلید {path} وجود ندارد.")


def blank(path: str) -> Message:
    """The answer at ``path`` was left blank (as in the answer template)."""
    return Message(f"No answer: {path} is left blank.", f"پاسخی داده نشده است: {path} خالی مانده است.")


def invalid(path: str, en: str, fa: str) -> Message:
    """The answer at ``path`` could not be read."""
    return Message(f"Could not read {path}: {_sentence(en)}", f"مقدار {path} خوانده نشد: {_sentence(fa)}")


def _sentence(text: str) -> str:
    """End a message with a full stop unless it already ends with punctuation."""
    return text if text.endswith((".", "?", "!", "؟")) else text + "."


def not_a_table(problem: str, got: str) -> Message:
    """The problem's answers are not a table."""
    return Message(f"[{problem}] must be a table of answers, got {got}.",
                   f"[{problem}] باید جدولی از پاسخ‌ها باشد، اما {got} داده شده است.")


def unknown_key(path: str, suggestion: str | None) -> Message:
    """A key the problem does not grade, with the closest known key."""
    hint_en = f"; did you mean {suggestion}?" if suggestion else ""
    hint_fa = f"؛ آیا منظورتان {suggestion} بود؟" if suggestion else ""
    return Message(f"Unknown key {path} is not graded{hint_en}",
                   f"کلید ناشناخته {path} نمره‌دهی نمی‌شود{hint_fa}")


def extra_items(path: str, given: int, graded: int) -> Message:
    """A list with more entries than the problem grades."""
    return Message(f"{path} has {given} entries; only the first {graded} are graded.",
                   f"{path} دارای {given} مورد است؛ تنها {graded} مورد اول نمره‌دهی می‌شود.")


def ungraded_problem(problem: str, suggestion: str | None) -> Message:
    """A top-level table that is no problem of this grader."""
    if suggestion:
        return Message(f"[{problem}] is not graded; did you mean [{suggestion}]?",
                       f"[{problem}] نمره‌دهی نمی‌شود؛ آیا منظورتان [{suggestion}] بود؟")
    return Message(f"[{problem}] is not graded: this grader has no problem {problem!r}.",
                   f"[{problem}] نمره‌دهی نمی‌شود: این سامانه مسئله‌ای با نام {problem} ندارد.")


def id_mismatch(given: str, used: str, named_by: IdSource) -> Message:
    """``[student].id`` disagrees with the id the submission is graded under (``used``, from ``named_by``)."""
    if named_by is IdSource.OPTION:
        return Message(f"[student].id is {given!r} but --student is {used!r}; {used!r} is used.",
                       f"مقدار [student].id برابر {given!r} است اما --student برابر {used!r} است؛ {used!r} به کار می‌رود.")
    if named_by is IdSource.ROSTER:
        return Message(f"[student].id is {given!r} but you submitted as {used!r} (the course roster's id); "
                       f"{used!r} is used.",
                       f"مقدار [student].id برابر {given!r} است اما با شناسه {used!r} (شناسه فهرست درس) ارسال کرده‌اید؛ "
                       f"{used!r} به کار می‌رود.")
    return Message(f"[student].id is {given!r} but the submission folder is {used!r}; the folder name is used.",
                   f"مقدار [student].id برابر {given!r} است اما نام پوشه {used!r} است؛ نام پوشه به کار می‌رود.")


def with_carried_forward(message: Message) -> Message:
    """A diagnosed mistake found when solving from the student's own earlier answers."""
    return Message(f"{message.en} (Judged from your own earlier answer.)",
                   f"{message.fa} (بر پایه پاسخ قبلی خودتان سنجیده شد.)")


def more_warnings(count: int) -> Message:
    """How many further warnings were left out."""
    return Message(f"... and {count} more warnings like these.", f"... و {count} هشدار دیگر از همین دست.")
