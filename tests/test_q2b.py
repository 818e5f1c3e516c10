"""Q2b: pooling as a convolution, the kernel checked by computation."""

from __future__ import annotations

import pytest

from grader.results import Status
from tests.helpers import grade_text, part, problem_result


def q2b(kernel: str, stride: str | None = None, *, max_yes: str = "false", explanation: str = "") -> str:
    """A [q2b] table."""
    lines = ["[q2b]", "avg_pool_as_conv = true", f"avg_kernel = {kernel}", f"max_pool_as_conv = {max_yes}"]
    if stride is not None:
        lines.append(f"avg_stride = {stride}")
    if explanation:
        lines.append(f'explanation = """{explanation}"""')
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("kernel, stride", [
    ("[[0.25, 0.25], [0.25, 0.25]]", "2"),
    ("[[0.25, 0.25], [0.25, 0.25]]", "1"),
    ('[["1/4", "1/4"], ["1/4", "1/4"]]', None),
    ('[["۰٫۲۵", "۰٫۲۵"], ["۰٫۲۵", "۰٫۲۵"]]', "2"),
    ('[["1/9", "1/9", "1/9"], ["1/9", "1/9", "1/9"], ["1/9", "1/9", "1/9"]]', "3"),
    ("[[0.5, 0.5]]", None),
    ('[["1/2", "1/2"]]', "[1, 2]"),
])
def test_average_kernels_are_right(tmp_path, problems, kernel, stride) -> None:
    """Any N×M kernel of 1/(N·M), at any stride, in any number notation, is correct."""
    graded = part(grade_text(tmp_path, problems, q2b(kernel, stride)), "avg_kernel")
    assert (graded.status, graded.score) == (Status.CORRECT, graded.max_score)


@pytest.mark.parametrize("kernel, words", [
    ("[[1, 1], [1, 1]]", "sum pooling"),
    ("[[0.5, 0.5], [0.5, 0.5]]", "2 times the average"),
    ("[[0.4, 0.1], [0.1, 0.4]]", "weighted average"),
    ("[[1, 0], [0, 2]]", "general linear filter"),
])
def test_wrong_kernels_say_what_they_compute(tmp_path, problems, kernel, words) -> None:
    """A kernel that is not average pooling scores zero and the feedback says what it computes."""
    graded = part(grade_text(tmp_path, problems, q2b(kernel, "2")), "avg_kernel")
    assert (graded.status, graded.score) == (Status.WRONG, 0)
    assert words in graded.feedback[0].en and graded.feedback[0].fa


@pytest.mark.parametrize("kernel", [
    '[["1e400", 0.25], [0.25, 0.25]]',      # no float is that large
    '[[0.25, 0.25], [0.25, "-2e308"]]',    # nor this small
])
def test_kernel_of_huge_weights_is_wrong_not_an_error(tmp_path, problems, kernel) -> None:
    """A kernel with weights beyond floating point is graded wrong (not average pooling), not an internal error."""
    result = grade_text(tmp_path, problems, q2b(kernel, "2"))
    graded = part(result, "avg_kernel")
    assert (graded.status, graded.score) == (Status.WRONG, 0)
    assert "general linear filter" in graded.feedback[0].en
    assert part(result, "max_pool_as_conv").status is Status.CORRECT


def test_bad_stride_is_invalid(tmp_path, problems) -> None:
    """An unreadable avg_stride makes the kernel part invalid with a message naming avg_stride."""
    graded = part(grade_text(tmp_path, problems, q2b("[[0.25, 0.25], [0.25, 0.25]]", '"two"')), "avg_kernel")
    assert graded.status is Status.INVALID and "avg_stride" in graded.feedback[0].en


def test_stride_is_a_known_key(tmp_path, problems) -> None:
    """avg_stride is read by the kernel check, so it is not reported as an unknown key."""
    result = grade_text(tmp_path, problems, q2b("[[0.25, 0.25], [0.25, 0.25]]", "2"))
    assert not any("avg_stride" in w.en for w in result.warnings)


def test_max_pool_no_is_right(tmp_path, problems) -> None:
    """max_pool_as_conv = false is correct."""
    graded = part(grade_text(tmp_path, problems, q2b("[[0.25, 0.25], [0.25, 0.25]]")), "max_pool_as_conv")
    assert graded.status is Status.CORRECT


@pytest.mark.parametrize("explanation", [
    "max(a, b) = b + ReLU(a - b), so stacking convolutions with ReLU computes the max.",
    "A learned strided convolution can replace max pooling, as in the all convolutional net.",
    "با ترکیب چند لایه همگشتی و تابع ReLU می‌توان بیشینه را ساخت.",
])
def test_defensible_yes_goes_to_review(tmp_path, problems, explanation) -> None:
    """A "yes" to max pooling argued with ReLU or strided convolutions is needs_review with partial credit."""
    text = q2b("[[0.25, 0.25], [0.25, 0.25]]", max_yes="true", explanation=explanation)
    graded = part(grade_text(tmp_path, problems, text), "max_pool_as_conv")
    assert graded.status is Status.NEEDS_REVIEW and 0 < graded.score < graded.max_score


def test_undefended_yes_is_wrong(tmp_path, problems) -> None:
    """A "yes" to max pooling with no such argument is wrong."""
    text = q2b("[[0.25, 0.25], [0.25, 0.25]]", max_yes="true", explanation="Yes, just use a kernel of ones.")
    graded = part(grade_text(tmp_path, problems, text), "max_pool_as_conv")
    assert (graded.status, graded.score) == (Status.WRONG, 0)


def test_key_scores_full_marks_on_q2b(tmp_path, problems) -> None:
    """The answer key's Q2b gets every point."""
    from tests.conftest import ROOT
    from tests.helpers import grade_path

    result = grade_path(ROOT / "solutions" / "answers.toml", problems).submissions[0]
    q2b_result = problem_result(result, "q2b")
    assert q2b_result.score == q2b_result.max_score
