"""Reference solver for Q2b: pooling as a convolution, checked by computation.

A kernel is right when a convolution with it (one channel at a time, no bias)
computes average pooling of the kernel's size at the given stride: this is
checked by computing both on random inputs, not by comparing with one key,
so 2×2 of 1/4 at stride 2 or 1, 3×3 of 1/9 and 1×2 of 1/2 are all right.
Max pooling is not linear, so no single convolution computes it; a "yes" that
argues with ReLU compositions (max(a, b) = b + ReLU(a − b)) or a learned
strided convolution is defensible and goes to a person.
"""

from __future__ import annotations

import functools
import math
import random
from fractions import Fraction
from pathlib import Path
from typing import Any, Mapping

from grader.errors import SolverError, ValueReadError
from grader.results import Message, Verdict
from grader.rubric import Essay, compile_pattern, load_rubric
from grader.text import normalize_text
from grader.values import parse_integer

MAX_KERNEL = 16
"""Largest kernel side checked (a pooling window is a few pixels)."""
MAX_STRIDE = 64
"""Largest stride accepted (a pooling stride is a few pixels)."""
_SEED = 2026
_WINDOWS_PER_TRIAL = 12
"""Random windows a trial checks (as many as three channels of a 2×2 output hold)."""


def solve(parameters: Mapping[str, Any], *, mistakes: frozenset[str] = frozenset(),
          given: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The key: yes for average pooling with a uniform kernel, no for max pooling, the model explanation."""
    size = parameters.get("pool_size")
    if not (isinstance(size, list) and len(size) == 2 and all(isinstance(n, int) and n > 0 for n in size)):
        raise SolverError("parameters.pool_size must be [N, M] of positive integers")
    n, m = size
    return {
        "avg_pool_as_conv": True,
        "avg_kernel": _uniform_kernel(n, m),
        "avg_stride": n if n == m else [n, m],
        "max_pool_as_conv": False,
        "explanation": load_rubric(Path(__file__).with_name("rubric_explanation.toml")).model_answer.fa,
    }


@functools.lru_cache(maxsize=64)  # the engine solves again for each student's table
def _uniform_kernel(n: int, m: int) -> tuple[tuple[Fraction, ...], ...]:
    """The N×M kernel of 1/(N·M): average pooling's own."""
    return tuple(tuple(Fraction(1, n * m) for _ in range(m)) for _ in range(n))


def vary(parameters: Mapping[str, Any], variants: Mapping[str, Any], rng: random.Random) -> dict[str, Any]:
    """A student's own pooling window, drawn from ``[variants] pool_sizes``; only that size is then right.

    Raises:
        SolverError: When ``pool_sizes`` is not a list of [N, M] pairs.
    """
    sizes = variants.get("pool_sizes")
    if not (isinstance(sizes, list) and sizes and all(isinstance(s, list) and len(s) == 2 for s in sizes)):
        raise SolverError("variants.pool_sizes must be a list of [N, M] pairs")
    return {**parameters, "pool_size": list(rng.choice(sizes)), "same_size": True}


def verify(parameters: Mapping[str, Any], path: str, value: Any, table: Mapping[str, Any]) -> Verdict | None:
    """Judge the parts whose right answers are many: the kernel, and a "yes" to max pooling.

    Raises:
        ValueReadError: When ``avg_stride`` cannot be read or the kernel is too large to check.
    """
    if path == "avg_kernel":
        return _verify_kernel(parameters, value, table.get("avg_stride"))
    if path == "max_pool_as_conv":
        return _verify_max_pool(parameters, value, table.get("explanation"))
    return None


def _stride(raw: Any, kernel: tuple[int, int]) -> tuple[int, int]:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return kernel  # the contract's default (also for the answer template's blank): the kernel size
    pair = raw if isinstance(raw, list) and len(raw) == 2 else [raw, raw]
    stride = (parse_integer(pair[0], minimum=1), parse_integer(pair[1], minimum=1))
    if max(stride) > MAX_STRIDE:
        raise ValueReadError(f"a stride of {max(stride)} is larger than any pooling stride (at most {MAX_STRIDE})",
                             f"گام {max(stride)} از هر گام ادغامی بزرگ‌تر است (حداکثر {MAX_STRIDE})")
    return stride


def _verify_kernel(parameters: Mapping[str, Any], kernel: tuple[tuple[Fraction, ...], ...], raw_stride: Any) -> Verdict:
    rows, cols = len(kernel), len(kernel[0])
    n, m = parameters["pool_size"]
    if parameters.get("same_size") and (rows, cols) != (n, m):
        return Verdict(Fraction(0), (Message(
            f"The question asks for a {n}×{m} pooling window; this kernel is {rows}×{cols}.",
            f"سؤال پنجره ادغام {n}×{m} را می‌خواهد؛ این کرنل {rows}×{cols} است."),), "wrong_size")
    if rows > MAX_KERNEL or cols > MAX_KERNEL:
        raise ValueReadError(f"a {rows}×{cols} kernel is larger than any pooling window ({MAX_KERNEL}×{MAX_KERNEL} at most)",
                             f"کرنل {rows}×{cols} از هر پنجره ادغامی بزرگ‌تر است (حداکثر {MAX_KERNEL}×{MAX_KERNEL})")
    try:
        stride = _stride(raw_stride, (rows, cols))
    except ValueReadError as error:
        raise ValueReadError(f"avg_stride: {error.en}", f"avg_stride: {error.fa}") from None
    return _kernel_verdict(kernel, stride, int(parameters.get("trials", 3)))


_MAX_WEIGHT = 2
"""Largest kernel weight tried on random windows: an average's weights are at most 1, and a larger weight
may have no float value (``"1e400"``)."""


@functools.lru_cache(maxsize=1024)
def _kernel_verdict(kernel: tuple[tuple[Fraction, ...], ...], stride: tuple[int, int], trials: int) -> Verdict:
    """Whether the kernel with this stride computes average pooling (cached: a class repeats its kernels)."""
    # Each output of a convolution (of any stride) is the weighted sum of one window of the input, and
    # average pooling's is the window's mean: so both are computed on random windows, in plain Python
    # (a few hundred numbers: `grade check` then needs no NumPy).
    rows, cols = len(kernel), len(kernel[0])
    if any(abs(v) > _MAX_WEIGHT for row in kernel for v in row):
        return Verdict(Fraction(0), (_what_it_computes(kernel),), "not_average")
    weights = [float(v) for row in kernel for v in row]
    generator = random.Random(_SEED)
    for _ in range(trials * _WINDOWS_PER_TRIAL):
        window = [generator.gauss(0, 1) for _ in weights]
        convolved = math.fsum(w * x for w, x in zip(weights, window))
        if not math.isclose(convolved, math.fsum(window) / len(window), rel_tol=1e-9, abs_tol=1e-12):
            return Verdict(Fraction(0), (_what_it_computes(kernel),), "not_average")
    return Verdict(Fraction(1), (Message(
        f"Correct: this kernel with stride {stride[0]}×{stride[1]} computes {rows}×{cols} average pooling "
        f"(checked on random inputs, one channel at a time).",
        f"درست است: این کرنل با گام {stride[0]}×{stride[1]} ادغام میانگین {rows}×{cols} را محاسبه می‌کند "
        f"(روی ورودی‌های تصادفی و برای هر کانال جداگانه بررسی شد)."),))


def _what_it_computes(kernel: tuple[tuple[Fraction, ...], ...]) -> Message:
    """Say what a kernel that is not average pooling computes instead."""
    entries = [v for row in kernel for v in row]
    count = len(entries)
    total = sum(entries, Fraction(0))
    if len(set(entries)) == 1:
        if entries[0] == 1:
            return Message(f"This kernel of ones computes sum pooling: {count} times the average. "
                           f"Average pooling needs every weight equal to 1/{count}.",
                           f"این کرنلِ یک‌ها ادغام جمعی را محاسبه می‌کند: {count} برابر میانگین. "
                           f"برای ادغام میانگین هر وزن باید 1/{count} باشد.")
        return Message(f"The weights are equal but sum to {total}, not 1: this computes {total} times the average. "
                       f"Each weight must be 1/{count}.",
                       f"وزن‌ها برابرند اما مجموعشان {total} است، نه ۱: این {total} برابر میانگین را محاسبه می‌کند. "
                       f"هر وزن باید 1/{count} باشد.")
    if total == 1:
        return Message("The weights sum to 1 but are not equal: this is a weighted average that favours some "
                       f"positions. Average pooling weights every position 1/{count}.",
                       "مجموع وزن‌ها ۱ است اما برابر نیستند: این یک میانگین وزن‌دار است که برخی جایگاه‌ها را "
                       f"ترجیح می‌دهد. ادغام میانگین به هر جایگاه وزن 1/{count} می‌دهد.")
    return Message(f"This kernel is a general linear filter (weights not equal, summing to {total}), not an average. "
                   f"Average pooling uses {count} equal weights of 1/{count}.",
                   f"این کرنل یک فیلتر خطی عمومی است (وزن‌ها نابرابر و با مجموع {total})، نه میانگین. "
                   f"ادغام میانگین {count} وزن برابر 1/{count} دارد.")


def _verify_max_pool(parameters: Mapping[str, Any], says_yes: bool, explanation: Any) -> Verdict:
    if not says_yes:
        return Verdict(Fraction(1), (Message("Correct: max is not linear, so no single convolution computes it.",
                                             "درست است: بیشینه خطی نیست، پس هیچ همگشت تنهایی آن را محاسبه نمی‌کند."),))
    text = normalize_text(explanation) if isinstance(explanation, str) else ""
    essay = Essay(text)
    if any(compile_pattern(p).find(essay) is not None for p in parameters.get("defensible_patterns", [])):
        return Verdict(Fraction(str(parameters.get("defensible_credit", "0.5"))), (Message(
            "A single (linear) convolution cannot compute max pooling, but your explanation argues with ReLU "
            "compositions or a learned strided convolution: an instructor will review it.",
            "یک همگشت (خطی) تنها نمی‌تواند ادغام حداکثری را محاسبه کند، اما توضیح شما به ترکیب با ReLU یا همگشت "
            "گام‌دار آموختنی استناد می‌کند: استاد آن را بازبینی می‌کند."),), "max_pool_defensible", review=True)
    return Verdict(Fraction(0), (Message(
        "Max pooling cannot be a convolution: max is not linear, and a convolution is a fixed weighted sum.",
        "ادغام حداکثری با همگشت ممکن نیست: بیشینه خطی نیست و همگشت یک مجموع وزن‌دار ثابت است."),), "max_pool_linear")
