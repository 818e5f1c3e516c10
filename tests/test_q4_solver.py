"""The Q4 reference solver: the homework's values, an independent NumPy backprop, finite differences, mistakes."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import sympy

from grader.errors import SolverError

HOMEWORK = {"X": [[3, 4, 5], [2, 1, -3], [4, -2, 0]], "F": [[2, 0], [-3, 1]],
            "stride": 1, "padding": 0, "head": "gap", "upstream": 1}
Q = Fraction(1, 4)


def fractions(rows) -> tuple[tuple[Fraction, ...], ...]:
    """A matrix of exact fractions, as the solver returns it."""
    return tuple(tuple(Fraction(v) for v in row) for row in rows)


def sym(text: str):
    """A SymPy expression from a trusted test-side formula (only +, * and symbol names)."""
    terms = []
    for term in text.split("+"):
        factors = [sympy.Symbol(f.strip()) for f in term.split("*")]
        terms.append(sympy.Mul(*factors))
    return sympy.Add(*terms)


# --- an independent NumPy implementation -------------------------------------------------------

def np_forward(X: np.ndarray, F: np.ndarray, stride: int, padding: int) -> np.ndarray:
    """Cross-correlation of zero-padded X with F at the given stride."""
    Xp = np.pad(X, padding)
    kh, kw = F.shape
    rows = (Xp.shape[0] - kh) // stride + 1
    cols = (Xp.shape[1] - kw) // stride + 1
    O = np.zeros((rows, cols))
    for k in range(rows):
        for l in range(cols):
            O[k, l] = np.sum(Xp[k * stride:k * stride + kh, l * stride:l * stride + kw] * F)
    return O


def np_head(O: np.ndarray, head: str) -> float:
    """Global average pooling or a plain sum."""
    return float(O.mean() if head == "gap" else O.sum())


def np_backward(X: np.ndarray, F: np.ndarray, stride: int, padding: int, head: str, upstream: float):
    """dL/dO, dL/dF (correlation of padded X with stride-dilated dL/dO) and dL/dX (scatter, then crop)."""
    O = np_forward(X, F, stride, padding)
    rows, cols = O.shape
    dO = np.full(O.shape, upstream / (rows * cols) if head == "gap" else float(upstream))
    Xp = np.pad(X, padding)
    dilated = np.zeros(((rows - 1) * stride + 1, (cols - 1) * stride + 1))
    dilated[::stride, ::stride] = dO
    kh, kw = F.shape
    dF = np.zeros(F.shape)
    for i in range(kh):
        for j in range(kw):
            dF[i, j] = np.sum(Xp[i:i + dilated.shape[0], j:j + dilated.shape[1]] * dilated)
    dXp = np.zeros(Xp.shape)
    for k in range(rows):
        for l in range(cols):
            dXp[k * stride:k * stride + kh, l * stride:l * stride + kw] += dO[k, l] * F
    dX = dXp[padding:padding + X.shape[0], padding:padding + X.shape[1]]
    return O, dO, dF, dX


def random_cases(count: int, seed: int, max_side: int = 6) -> list[dict]:
    """Random valid parameter sets: X 2..max_side, F 1..3 (fitting the padded X), stride 1..3, padding 0..2."""
    rng = np.random.default_rng(seed)
    cases = []
    while len(cases) < count:
        h, w = (int(v) for v in rng.integers(2, max_side + 1, size=2))
        kh, kw = (int(v) for v in rng.integers(1, 4, size=2))
        stride, padding = int(rng.integers(1, 4)), int(rng.integers(0, 3))
        if kh > h + 2 * padding or kw > w + 2 * padding:
            continue
        cases.append({
            "X": rng.integers(-5, 6, size=(h, w)).tolist(),
            "F": rng.integers(-5, 6, size=(kh, kw)).tolist(),
            "stride": stride, "padding": padding,
            "head": str(rng.choice(["gap", "sum"])),
            "upstream": int(rng.choice([-3, -2, -1, 1, 2, 3, 5])),
        })
    return cases


RANDOM = random_cases(36, seed=20240407)


def assert_matrix_close(exact, approx: np.ndarray) -> None:
    """An exact matrix (tuple of Fraction rows) equals a float matrix within 1e-9, entry by entry."""
    assert all(isinstance(v, Fraction) for row in exact for v in row)
    assert np.array(exact, dtype=float).shape == approx.shape
    np.testing.assert_allclose(np.array([[float(v) for v in row] for row in exact]), approx, rtol=0, atol=1e-9)


# --- the homework -----------------------------------------------------------------------------

def test_homework_numbers(q4_solver) -> None:
    """The homework gives O, y = 1/4, dL/dO = 1/4, dL/dF and dL/dX exactly as stated, as Fractions."""
    answers = q4_solver.solve(HOMEWORK)
    assert answers["O"] == fractions([[1, 2], [-10, 8]])
    assert answers["y"] == Q and isinstance(answers["y"], Fraction)
    assert answers["dL_dO"] == fractions([[Q, Q], [Q, Q]])
    assert answers["dL_dF"] == fractions([[Fraction(5, 2), Fraction(7, 4)], [Fraction(5, 4), -1]])
    assert answers["dL_dX"] == fractions([[Fraction(1, 2), Fraction(1, 2), 0], [-Q, 0, Q],
                                          [Fraction(-3, 4), Fraction(-1, 2), Q]])
    for key in ("O", "dL_dO", "dL_dF", "dL_dX"):
        assert all(isinstance(v, Fraction) for row in answers[key] for v in row)


HOMEWORK_FORMULAS = {
    "dL_dF11": "dL_dO11*X11 + dL_dO12*X12 + dL_dO21*X21 + dL_dO22*X22",
    "dL_dF12": "dL_dO11*X12 + dL_dO12*X13 + dL_dO21*X22 + dL_dO22*X23",
    "dL_dF21": "dL_dO11*X21 + dL_dO12*X22 + dL_dO21*X31 + dL_dO22*X32",
    "dL_dF22": "dL_dO11*X22 + dL_dO12*X23 + dL_dO21*X32 + dL_dO22*X33",
    "dL_dX11": "dL_dO11*F11",
    "dL_dX12": "dL_dO11*F12 + dL_dO12*F11",
    "dL_dX13": "dL_dO12*F12",
    "dL_dX21": "dL_dO11*F21 + dL_dO21*F11",
    "dL_dX22": "dL_dO11*F22 + dL_dO12*F21 + dL_dO21*F12 + dL_dO22*F11",
    "dL_dX23": "dL_dO12*F22 + dL_dO22*F12",
    "dL_dX31": "dL_dO21*F21",
    "dL_dX32": "dL_dO21*F22 + dL_dO22*F21",
    "dL_dX33": "dL_dO22*F22",
}


@pytest.mark.parametrize("name, text", sorted(HOMEWORK_FORMULAS.items()))
def test_homework_formulas(q4_solver, name, text) -> None:
    """Each chain-rule formula is exactly the homework's sum of dL/dO × local weight (structurally and expanded)."""
    formula = q4_solver.solve(HOMEWORK)[f"formulas.{name}"]
    expected = sym(text)
    assert formula.expr.to_sympy() == expected
    assert sympy.expand(formula.expr.to_sympy() - expected) == 0


def test_homework_formula_values(q4_solver) -> None:
    """Every formula evaluates (at X, F and dL/dO = 1/4) to the numeric gradient entry."""
    answers = q4_solver.solve(HOMEWORK)
    for matrix in ("F", "X"):
        for i, row in enumerate(answers[f"dL_d{matrix}"], start=1):
            for j, value in enumerate(row, start=1):
                assert answers[f"formulas.dL_d{matrix}{i}{j}"].number == sympy.Rational(value.numerator,
                                                                                         value.denominator)


def test_homework_has_no_extra_formulas(q4_solver) -> None:
    """The homework's answers hold exactly the 13 formula keys (4 of dL/dF, 9 of dL/dX)."""
    keys = {k for k in q4_solver.solve(HOMEWORK) if k.startswith("formulas.")}
    assert keys == {f"formulas.{name}" for name in HOMEWORK_FORMULAS}


def test_homework_symbols(q4_solver) -> None:
    """The symbols a formula may use are X, F, dL/dO entries and the local gradients dO_kl/dW_ij."""
    names = q4_solver.symbols(HOMEWORK)
    assert {"X11", "X33", "F11", "F22", "dL_dO11", "dL_dO22", "dO11_dF22", "dO22_dX33"} <= names
    assert not {"X44", "F33", "dL_dO33", "Y11"} & names
    assert len(names) == 9 + 4 + 4 + 4 * (4 + 9)


# --- against NumPy --------------------------------------------------------------------------------

def test_enough_random_cases() -> None:
    """At least 30 random cases, covering both heads, every stride and every padding."""
    assert len(RANDOM) >= 30
    assert {c["head"] for c in RANDOM} == {"gap", "sum"}
    assert {c["stride"] for c in RANDOM} == {1, 2, 3}
    assert {c["padding"] for c in RANDOM} == {0, 1, 2}


@pytest.mark.parametrize("case", RANDOM, ids=[f"case{i}" for i in range(len(RANDOM))])
def test_solver_matches_numpy(q4_solver, case) -> None:
    """O, y, dL/dO, dL/dF and dL/dX (and every formula's value) equal the independent NumPy backprop."""
    X, F = np.array(case["X"], dtype=float), np.array(case["F"], dtype=float)
    O, dO, dF, dX = np_backward(X, F, case["stride"], case["padding"], case["head"], case["upstream"])
    answers = q4_solver.solve(case)
    assert_matrix_close(answers["O"], O)
    assert isinstance(answers["y"], Fraction)
    assert abs(float(answers["y"]) - np_head(O, case["head"])) <= 1e-9
    assert_matrix_close(answers["dL_dO"], dO)
    assert_matrix_close(answers["dL_dF"], dF)
    assert_matrix_close(answers["dL_dX"], dX)
    for matrix, grad in (("F", dF), ("X", dX)):
        for i in range(grad.shape[0]):
            for j in range(grad.shape[1]):
                number = answers[f"formulas.dL_d{matrix}{i + 1}{j + 1}"].number
                assert abs(float(number) - grad[i, j]) <= 1e-9


def test_numpy_reference_is_sane() -> None:
    """The test's own NumPy backprop reproduces the homework's published values (guards the oracle)."""
    O, dO, dF, dX = np_backward(np.array(HOMEWORK["X"], float), np.array(HOMEWORK["F"], float), 1, 0, "gap", 1)
    np.testing.assert_allclose(O, [[1, 2], [-10, 8]])
    np.testing.assert_allclose(dO, np.full((2, 2), 0.25))
    np.testing.assert_allclose(dF, [[2.5, 1.75], [1.25, -1]])
    np.testing.assert_allclose(dX, [[0.5, 0.5, 0], [-0.25, 0, 0.25], [-0.75, -0.5, 0.25]])


# --- against finite differences -------------------------------------------------------------------

def solver_loss(q4_solver, case: dict, X: np.ndarray, F: np.ndarray) -> float:
    """L = upstream · y, with y from the solver's own forward pass at the given X and F."""
    return float(case["upstream"]) * float(q4_solver.solve({**case, "X": X.tolist(), "F": F.tolist()})["y"])


@pytest.mark.parametrize("case", [HOMEWORK] + random_cases(4, seed=7, max_side=4),
                         ids=["homework", "fd0", "fd1", "fd2", "fd3"])
def test_gradients_match_finite_differences(q4_solver, case) -> None:
    """Every entry of dL/dF and dL/dX equals the central finite difference of L = upstream · y."""
    answers = q4_solver.solve(case)
    X, F = np.array(case["X"], dtype=float), np.array(case["F"], dtype=float)
    step = 1e-3
    for name, base, grad in (("X", X, answers["dL_dX"]), ("F", F, answers["dL_dF"])):
        for index in np.ndindex(base.shape):
            plus, minus = base.copy(), base.copy()
            plus[index] += step
            minus[index] -= step
            args_plus = (plus, F) if name == "X" else (X, plus)
            args_minus = (minus, F) if name == "X" else (X, minus)
            numeric = (solver_loss(q4_solver, case, *args_plus) - solver_loss(q4_solver, case, *args_minus)) / (2 * step)
            assert abs(numeric - float(grad[index[0]][index[1]])) <= 1e-6, (name, index)


# --- mistake switches ---------------------------------------------------------------------------

def test_kernel_flipped_rotates_f(q4_solver) -> None:
    """kernel_flipped computes O with F rotated by 180° (a true convolution), here [[-7, -17], [-5, 10]]."""
    answers = q4_solver.solve(HOMEWORK, mistakes=frozenset({"kernel_flipped"}))
    rotated = np.rot90(np.array(HOMEWORK["F"], float), 2)
    assert_matrix_close(answers["O"], np_forward(np.array(HOMEWORK["X"], float), rotated, 1, 0))
    assert answers["O"] == fractions([[-7, -17], [-5, 10]])
    assert answers["y"] == Fraction(-19, 4)


@pytest.mark.parametrize("case", RANDOM[:6], ids=[f"case{i}" for i in range(6)])
def test_kernel_flipped_random(q4_solver, case) -> None:
    """On random cases kernel_flipped gives the forward pass with F rotated 180°, and its gradients."""
    X, F = np.array(case["X"], float), np.rot90(np.array(case["F"], float), 2)
    O, dO, dF_rot, dX = np_backward(X, F, case["stride"], case["padding"], case["head"], case["upstream"])
    answers = q4_solver.solve(case, mistakes=frozenset({"kernel_flipped"}))
    assert_matrix_close(answers["O"], O)
    assert_matrix_close(answers["dL_dX"], dX)
    assert_matrix_close(answers["dL_dF"], np.rot90(dF_rot, 2))  # dL/dF_ij of the flipped layer


@pytest.mark.parametrize("upstream", [1, 3, -2])
def test_gap_scale_forgotten_sets_dl_do_to_upstream(q4_solver, upstream) -> None:
    """gap_scale_forgotten gives dL/dO all equal to the upstream gradient (not divided by n), and 4× dL/dF."""
    right = q4_solver.solve({**HOMEWORK, "upstream": upstream})
    answers = q4_solver.solve({**HOMEWORK, "upstream": upstream}, mistakes=frozenset({"gap_scale_forgotten"}))
    assert answers["dL_dO"] == fractions([[upstream, upstream], [upstream, upstream]])
    assert answers["dL_dF"] == tuple(tuple(4 * v for v in row) for row in right["dL_dF"])
    assert answers["dL_dX"] == tuple(tuple(4 * v for v in row) for row in right["dL_dX"])
    assert answers["O"] == right["O"] and answers["y"] == right["y"]


def swap_x_f(expr):
    """The expression with X_ij and F_ij exchanged."""
    mapping = {}
    for s in expr.free_symbols:
        name = str(s)
        if name[0] in "XF" and name[1:].isdigit():
            mapping[s] = sympy.Symbol(("F" if name[0] == "X" else "X") + name[1:])
    return expr.xreplace(mapping)


def test_x_f_swapped_exchanges_symbols(q4_solver) -> None:
    """x_f_swapped writes every formula with X and F exchanged (dL_dF11 in F entries, dL_dX in X entries)."""
    right = q4_solver.solve(HOMEWORK)
    answers = q4_solver.solve(HOMEWORK, mistakes=frozenset({"x_f_swapped"}))
    assert answers["formulas.dL_dF11"].expr.to_sympy() == sym("dL_dO11*F11 + dL_dO12*F12 + dL_dO21*F21 + dL_dO22*F22")
    assert answers["formulas.dL_dX12"].expr.to_sympy() == sym("dL_dO11*X12 + dL_dO12*X11")
    formulas = [k for k in answers if k.startswith("formulas.")]
    assert "formulas.dL_dF11" in formulas and all(f"formulas.dL_dX{i}{j}" in formulas
                                                  for i in range(1, 4) for j in range(1, 4))
    for key in formulas:
        assert answers[key].expr.to_sympy() == swap_x_f(right[key].expr.to_sympy())
    # dL_dF12 would need F13, which a 2×2 filter does not have: no such mistaken formula
    assert "formulas.dL_dF12" not in answers


def transpose_entries(expr):
    """The expression with X_ij and F_ij read as X_ji and F_ji (upstream gradients untouched)."""
    mapping = {}
    for s in expr.free_symbols:
        name = str(s)
        if name[0] in "XF" and name[1:].isdigit():
            mapping[s] = sympy.Symbol(name[0] + name[2] + name[1])
    return expr.xreplace(mapping)


def test_indices_transposed_swaps_indices(q4_solver) -> None:
    """indices_transposed reads X_ij as X_ji and F_ij as F_ji: O is transposed and formulas have swapped indices."""
    right = q4_solver.solve(HOMEWORK)
    answers = q4_solver.solve(HOMEWORK, mistakes=frozenset({"indices_transposed"}))
    assert answers["O"] == fractions([[1, -10], [2, 8]])
    assert answers["formulas.dL_dF11"].expr.to_sympy() == sym("dL_dO11*X11 + dL_dO21*X12 + dL_dO12*X21 + dL_dO22*X22")
    for key in (k for k in right if k.startswith("formulas.")):
        assert answers[key].expr.to_sympy() == transpose_entries(right[key].expr.to_sympy())


def test_given_o_gives_mean_of_students_o(q4_solver) -> None:
    """given={'O': ...} makes y the mean of the student's own O."""
    own = fractions([[1, 1], [1, 5]])
    assert q4_solver.solve(HOMEWORK, given={"O": own})["y"] == 2
    own = fractions([[1, 2], [-10, 12]])
    assert q4_solver.solve(HOMEWORK, given={"O": own})["y"] == Fraction(5, 4)


def test_given_o_with_sum_head(q4_solver) -> None:
    """With the sum head, given={'O': ...} makes y the sum of the student's O."""
    assert q4_solver.solve({**HOMEWORK, "head": "sum"}, given={"O": fractions([[1, 1], [1, 5]])})["y"] == 8


def test_given_o_of_wrong_shape_is_ignored(q4_solver) -> None:
    """A given O of the wrong shape is not used: y stays the reference value."""
    assert q4_solver.solve(HOMEWORK, given={"O": fractions([[1, 1, 1]])})["y"] == Q


def test_given_dl_do_drives_numeric_gradients(q4_solver) -> None:
    """given={'dL_dO': ...} computes dL/dF and dL/dX from the student's dL/dO."""
    own = fractions([[1, 0], [0, 0]])
    answers = q4_solver.solve(HOMEWORK, given={"dL_dO": own})
    assert answers["dL_dF"] == fractions([[3, 4], [2, 1]])
    assert answers["dL_dX"] == fractions([[2, 0, 0], [-3, 1, 0], [0, 0, 0]])
    ones = fractions([[1, 1], [1, 1]])
    assert q4_solver.solve(HOMEWORK, given={"dL_dO": ones})["dL_dF"] == fractions([[10, 7], [5, -4]])
    assert answers["dL_dO"] == fractions([[Q, Q], [Q, Q]])  # the reference dL/dO itself is unchanged


# --- invalid parameters ---------------------------------------------------------------------------

@pytest.mark.parametrize("change", [
    {"F": [[1, 1, 1, 1]] * 4},                           # 4×4 filter on a 3×3 input, no padding
    {"F": [[1] * 6], "padding": 1},                      # 1×6 filter on a 5-wide padded input
    {"stride": 0},
    {"stride": -1},
    {"stride": 1.5},
    {"stride": True},
    {"padding": -1},
    {"head": "max"},
    {"X": [[1, 2, 3], [4, 5]]},                          # not rectangular
    {"X": []},
    {"X": [[1] * 9] * 9},                                # larger than 8×8
    {"X": [[1] * 9] * 3},
    {"X": [["a", 1], [1, 1]]},
    {"F": "F"},
])
def test_invalid_parameters_raise_solver_error(q4_solver, change) -> None:
    """Impossible or malformed parameters raise SolverError (not another exception)."""
    with pytest.raises(SolverError):
        q4_solver.solve({**HOMEWORK, **change})


def test_largest_allowed_input_is_solved(q4_solver) -> None:
    """An 8×8 input (the limit) with a 1×1 filter is still solved."""
    answers = q4_solver.solve({**HOMEWORK, "X": [[1] * 8] * 8, "F": [[2]], "head": "sum"})
    assert answers["y"] == 128
