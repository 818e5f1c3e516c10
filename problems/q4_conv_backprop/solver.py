"""Reference solver for Q4: backpropagation through a convolution and a pooling head.

Symbolic with SymPy and general: X and F of any size, stride, zero padding,
and a head that is global average pooling (the homework) or a sum. The
forward pass is built from symbols (``O_kl = Σ_ij X_(k−1)s+i,(l−1)s+j · F_ij``,
the deep-learning convolution, i.e. cross-correlation) and the gradients
come from differentiating it, so the formulas in ``X_ij``, ``F_ij`` and
``dL_dO_kl`` are the chain rule itself:

    ∂L/∂F_ij = Σ_kl ∂L/∂O_kl · ∂O_kl/∂F_ij,    ∂L/∂X_ab = Σ_kl ∂L/∂O_kl · ∂O_kl/∂X_ab.

Numbers are the formulas at the spec's X and F, exact (fractions).
Mistake switches rebuild the same quantities the way a student who makes
that mistake would.

The symbolic work depends only on the sizes, stride, padding, head and
mistakes, so it is done once per structure and handed on as formula trees
(:mod:`grader.formulas.expr`); ``@stored`` keeps it between runs when the
grader asks (``grade check`` does), so SymPy is imported only to derive.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any, Mapping

from grader.errors import SolverError
from grader.formulas.equivalence import Formula
from grader.formulas.expr import Expr, from_sympy
from grader.formulas.parse import entry_name, gradient_name, local_name
from grader.formulas.stored import stored
from grader.memo import IdentityMemo

MISTAKES = frozenset({
    "kernel_flipped",       # true convolution (kernel rotated 180°) instead of cross-correlation
    "gap_scale_forgotten",  # dL/dO taken as the upstream gradient, without GAP's 1/n
    "x_f_swapped",          # X and F exchanged in the gradient formulas
    "indices_transposed",   # X_ij and F_ij read as X_ji and F_ji
})
MAX_SIZE = 8
"""Largest side of X the solver accepts (formulas grow with the square of the size)."""

Matrix = tuple[tuple[Fraction, ...], ...]


@dataclass(frozen=True)
class Setup:
    """The problem's parameters, validated."""

    X: Matrix
    F: Matrix
    stride: int
    padding: int
    head: str
    upstream: Fraction

    def __hash__(self) -> int:  # kept: the solver's caches hash a Setup on each of a table's five solves
        return self._hash

    @functools.cached_property
    def _hash(self) -> int:
        return hash((self.X, self.F, self.stride, self.padding, self.head, self.upstream))

    @property
    def out_size(self) -> tuple[int, int]:
        """Rows and columns of O."""
        rows = (len(self.X) + 2 * self.padding - len(self.F)) // self.stride + 1
        cols = (len(self.X[0]) + 2 * self.padding - len(self.F[0])) // self.stride + 1
        return rows, cols


def _matrix(value: Any, name: str) -> Matrix:
    if not (isinstance(value, list) and value and all(isinstance(r, list) and r for r in value)
            and len({len(r) for r in value}) == 1):
        raise SolverError(f"parameters.{name} must be a non-empty rectangular matrix")
    if len(value) > MAX_SIZE or len(value[0]) > MAX_SIZE:
        raise SolverError(f"parameters.{name} is larger than {MAX_SIZE}×{MAX_SIZE}")
    try:
        return tuple(tuple(Fraction(str(v)) for v in row) for row in value)
    except (ValueError, ZeroDivisionError):
        raise SolverError(f"parameters.{name} must hold numbers") from None


def setup(parameters: Mapping[str, Any]) -> Setup:
    """Validate the parameters (``X``, ``F``, ``stride``, ``padding``, ``head``, ``upstream``).

    Raises:
        SolverError: Naming the parameter that is wrong.
    """
    stride, padding = parameters.get("stride", 1), parameters.get("padding", 0)
    head = parameters.get("head", "gap")
    if not isinstance(stride, int) or isinstance(stride, bool) or stride < 1:
        raise SolverError("parameters.stride must be a positive integer")
    if not isinstance(padding, int) or isinstance(padding, bool) or padding < 0:
        raise SolverError("parameters.padding must be a non-negative integer")
    if head not in ("gap", "sum"):
        raise SolverError("parameters.head must be 'gap' or 'sum'")
    result = Setup(_matrix(parameters.get("X"), "X"), _matrix(parameters.get("F"), "F"), stride, padding, head,
                   Fraction(str(parameters.get("upstream", 1))))
    if min(result.out_size) < 1:
        raise SolverError("parameters.F is larger than the padded X")
    return result


def _name(matrix: str, row: int, col: int, transposed: bool) -> Any:
    import sympy

    return sympy.Symbol(entry_name(matrix, col, row) if transposed else entry_name(matrix, row, col))


def _structure(s: Setup) -> Setup:
    """``s`` without its numbers: the symbolic work depends only on sizes, stride, padding and head.

    Keying the caches by it lets every variant of a problem (other entries of
    X and F) reuse the symbolic forward pass and derivatives.
    """
    return replace(s, X=tuple(tuple(Fraction(0) for _ in row) for row in s.X),
                   F=tuple(tuple(Fraction(0) for _ in row) for row in s.F), upstream=Fraction(1))


def forward(s: Setup, mistakes: frozenset[str] = frozenset()) -> dict[tuple[int, int], Expr]:
    """O_kl (1-based) as formulas in the X and F symbols (cached; callers must not change it)."""
    return _derived(_structure(s), mistakes)[0]


@functools.lru_cache(maxsize=256)
def _forward(s: Setup, mistakes: frozenset[str]) -> dict[tuple[int, int], Any]:
    """O_kl as SymPy expressions (SymPy is imported here, to derive)."""
    import sympy

    kh, kw = len(s.F), len(s.F[0])
    h, w = len(s.X), len(s.X[0])
    transposed = "indices_transposed" in mistakes
    flipped = "kernel_flipped" in mistakes
    outputs = {}
    rows, cols = s.out_size
    for k in range(1, rows + 1):
        for l in range(1, cols + 1):
            terms = []
            for i in range(1, kh + 1):
                for j in range(1, kw + 1):
                    a, b = (k - 1) * s.stride + i - s.padding, (l - 1) * s.stride + j - s.padding
                    if 1 <= a <= h and 1 <= b <= w:  # outside X is zero padding
                        fi, fj = (kh + 1 - i, kw + 1 - j) if flipped else (i, j)
                        terms.append(_name("X", a, b, transposed) * _name("F", fi, fj, transposed))
            outputs[(k, l)] = sympy.Add(*terms)
    return outputs


def symbols(parameters: Mapping[str, Any]) -> frozenset[str]:
    """Every symbol a student's formula may use: entries of X, F, ∂L/∂O and local gradients."""
    s = setup(parameters)
    rows, cols = s.out_size
    names = {entry_name("X", i, j) for i in range(1, len(s.X) + 1) for j in range(1, len(s.X[0]) + 1)}
    names |= {entry_name("F", i, j) for i in range(1, len(s.F) + 1) for j in range(1, len(s.F[0]) + 1)}
    names |= {gradient_name(k, l) for k in range(1, rows + 1) for l in range(1, cols + 1)}
    names |= set(_local_gradients(s))
    return frozenset(names)


def _local_gradients(s: Setup) -> dict[str, Expr]:
    """∂O_kl/∂F_ij and ∂O_kl/∂X_ab by name, as formulas (the chain rule's local factors)."""
    return _local_gradients_of(_structure(s))


@stored
def _local_gradients_of(s: Setup) -> dict[str, Expr]:
    import sympy

    outputs = _forward(s, frozenset())
    definitions = {}
    for (k, l), o in outputs.items():
        for matrix, size in (("F", (len(s.F), len(s.F[0]))), ("X", (len(s.X), len(s.X[0])))):
            for i in range(1, size[0] + 1):
                for j in range(1, size[1] + 1):
                    derivative = sympy.diff(o, sympy.Symbol(entry_name(matrix, i, j)))
                    definitions[local_name((k, l), matrix, (i, j))] = from_sympy(derivative)
    return definitions


def _values(s: Setup, gradients: Mapping[tuple[int, int], Fraction]) -> dict[str, Fraction]:
    values = {entry_name("X", i + 1, j + 1): v for i, row in enumerate(s.X) for j, v in enumerate(row)}
    values |= {entry_name("F", i + 1, j + 1): v for i, row in enumerate(s.F) for j, v in enumerate(row)}
    values |= {gradient_name(k, l): g for (k, l), g in gradients.items()}
    return values


_SETUPS: IdentityMemo[Setup] = IdentityMemo(256)
""":func:`setup` of the parameters object a problem keeps (the engine solves a table 5 times)."""


def _read_matrix(given: Mapping[str, Any] | None, key: str, rows: int, cols: int) -> Matrix | None:
    value = (given or {}).get(key)
    if isinstance(value, tuple) and len(value) == rows and all(len(r) == cols for r in value):
        return value
    return None


def solve(parameters: Mapping[str, Any], *, mistakes: frozenset[str] = frozenset(),
          given: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Expected answers: ``O``, ``y``, ``dL_dO``, ``dL_dF``, ``dL_dX`` and ``formulas.dL_dF11`` ...

    Args:
        parameters: ``X``, ``F`` (matrices), ``stride``, ``padding``, ``head``
            (``gap`` or ``sum``) and ``upstream`` (∂L/∂y, default 1).
        mistakes: Mistake switches to apply.
        given: The student's own readable answers: ``y`` is then computed from
            their ``O`` and the numeric gradients from their ``dL_dO``.
    """
    s = _SETUPS.get(parameters, None, lambda: setup(parameters))
    rows, cols = s.out_size
    # Only the student's O and dL/dO change the answers: cache by them (a class repeats them).
    return dict(_solve(s, frozenset(mistakes), _read_matrix(given, "O", rows, cols),
                       _read_matrix(given, "dL_dO", rows, cols)))


@functools.lru_cache(maxsize=1024)
def _solve(s: Setup, mistakes: frozenset[str], own_o: Matrix | None, own_gradients: Matrix | None) -> dict[str, Any]:
    rows, cols = s.out_size
    outputs = forward(s, mistakes)
    scale = Fraction(1) if s.head == "sum" or "gap_scale_forgotten" in mistakes else Fraction(1, rows * cols)
    gradients = {key: s.upstream * scale for key in outputs}
    values = _values(s, gradients)
    o_values = {key: o.value(values) for key, o in outputs.items()}
    # Error carried forward: y from the student's own O.
    total = sum((v for row in own_o for v in row) if own_o is not None else o_values.values(), Fraction(0))
    answers: dict[str, Any] = {
        "O": _as_matrix(o_values, rows, cols),
        "y": total if s.head == "sum" else total / (rows * cols),
        "dL_dO": _as_matrix(gradients, rows, cols),
    }
    number_values = values if own_gradients is None else _values(
        s, {(k + 1, l + 1): v for k, row in enumerate(own_gradients) for l, v in enumerate(row)})
    upstream = {gradient_name(*key): g for key, g in gradients.items()}
    definitions = _local_gradients(s)
    for matrix, size, formulas in _gradient_formulas(s, mistakes):
        entries = {}
        for (i, j), expr in formulas.items():
            answers[f"formulas.{entry_name('dL_d' + matrix, i, j)}"] = Formula(expr, upstream, values, definitions)
            entries[(i, j)] = expr.value(number_values)
        if len(entries) == size[0] * size[1]:
            answers[f"dL_d{matrix}"] = _as_matrix(entries, *size)
    return answers


Gradients = tuple[tuple[str, tuple[int, int], dict[tuple[int, int], Expr]], ...]


def _gradient_formulas(s: Setup, mistakes: frozenset[str]) -> Gradients:
    """The chain-rule formula of every entry of ∂L/∂F and ∂L/∂X (cached: the slow, symbolic part).

    An entry whose formula has no counterpart under ``x_f_swapped`` is left out.
    """
    return _derived(_structure(s), mistakes)[1]


@stored
def _derived(s: Setup, mistakes: frozenset[str]) -> tuple[dict[tuple[int, int], Expr], Gradients]:
    """The forward pass and the chain-rule formulas as trees, derived with SymPy."""
    import sympy

    outputs = _forward(s, mistakes)
    result = []
    for matrix, size in (("F", (len(s.F), len(s.F[0]))), ("X", (len(s.X), len(s.X[0])))):
        formulas = {}
        for i in range(1, size[0] + 1):
            for j in range(1, size[1] + 1):
                wrt = _name(matrix, i, j, "indices_transposed" in mistakes)
                expr = sympy.Add(*(sympy.Symbol(gradient_name(*key)) * sympy.diff(o, wrt) for key, o in outputs.items()))
                if "x_f_swapped" in mistakes:
                    expr = _swap_x_f(expr, s)
                    if expr is None:
                        continue
                formulas[(i, j)] = from_sympy(expr)
        result.append((matrix, size, formulas))
    return {key: from_sympy(o) for key, o in outputs.items()}, tuple(result)


def _swap_x_f(expr: Any, s: Setup) -> Any:
    """``expr`` (SymPy) with every X_ij written as F_ij and back; None when an entry has no counterpart."""
    import sympy

    known = symbols_of(s)
    swap = {}
    for symbol in expr.free_symbols:
        name = str(symbol)
        if name[0] in "XF" and name[1:].isdigit():
            other = ("F" if name[0] == "X" else "X") + name[1:]
            if other not in known:
                return None
            swap[symbol] = sympy.Symbol(other)
    return expr.xreplace(swap)


def symbols_of(s: Setup) -> frozenset[str]:
    """Entry names of X and F."""
    return frozenset({entry_name("X", i, j) for i in range(1, len(s.X) + 1) for j in range(1, len(s.X[0]) + 1)}
                     | {entry_name("F", i, j) for i in range(1, len(s.F) + 1) for j in range(1, len(s.F[0]) + 1)})


def _as_matrix(entries: Mapping[tuple[int, int], Fraction], rows: int, cols: int) -> Matrix:
    return tuple(tuple(entries[(k, l)] for l in range(1, cols + 1)) for k in range(1, rows + 1))


def vary(parameters: Mapping[str, Any], variants: Mapping[str, Any], rng: random.Random) -> dict[str, Any]:
    """A student's own X and F: the homework's sizes, entries drawn from ``[variants] entry_range``.

    The sizes stay: every gradient entry is a part of its own in the spec.

    Raises:
        SolverError: When ``entry_range`` is not ``[low, high]`` integers.
    """
    bounds = variants.get("entry_range")
    if not (isinstance(bounds, list) and len(bounds) == 2 and all(isinstance(b, int) for b in bounds)
            and bounds[0] < bounds[1]):
        raise SolverError("variants.entry_range must be [low, high] integers with low < high")
    s = setup(parameters)

    def draw(matrix: Matrix) -> list[list[int]]:
        return [[rng.randint(*bounds) for _ in row] for row in matrix]

    return {**parameters, "X": draw(s.X), "F": draw(s.F)}
