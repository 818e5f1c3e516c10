"""Formula trees: exact values without SymPy, the SymPy form on request, and derivations kept between runs."""

from __future__ import annotations

import importlib.util
import json
import os
import random
import shutil
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest
import sympy

from grader.formulas import polynomial
from grader.formulas import stored as stored_module
from grader.formulas.equivalence import Match, compare, diagnose_terms
from grader.formulas.expr import Expr, Op, from_data, from_sympy, mul, number, symbol
from grader.formulas.parse import FormulaError, parse_formula
from grader.formulas.stored import keep_in, stored
from tests.conftest import PROBLEMS, SUBMISSIONS

HOMEWORK = {"X": [[3, 4, 5], [2, 1, -3], [4, -2, 0]], "F": [[2, 0], [-3, 1]],
            "stride": 1, "padding": 0, "head": "gap", "upstream": 1}
FORMULAS = ["X11*dL_dO11 + X12*dL_dO12", "-(X11 - 2*F22)^3 / (F11 + 1/4)", r"\frac{X_{1,1}}{3} - 0.25 X12",
            "dL_dO11 (X11 + X12) - -X21", "X11^-2 * F12^2 + 7", "∂O11/∂F22 × ∂L/∂O11", "((X11))/((F11 - F12))"]


@pytest.fixture(scope="module")
def names(q4_solver) -> frozenset[str]:
    """The symbols of the homework's Q4."""
    return q4_solver.symbols(HOMEWORK)


@pytest.mark.parametrize("text", FORMULAS)
def test_values_are_sympys_values(names, text) -> None:
    """A parsed formula's exact value at seeded points is the SymPy expression's; where SymPy's is undefined,
    evaluating the tree raises ZeroDivisionError."""
    tree = parse_formula(text, names)
    built = tree.to_sympy()
    generator = random.Random(text)
    for _ in range(20):
        point = {name: Fraction(generator.randint(-9, 9), generator.randint(1, 3)) for name in sorted(names)}
        expected = built.xreplace({sympy.Symbol(k): sympy.Rational(v.numerator, v.denominator) for k, v in point.items()})
        if expected.is_Rational:
            assert tree.value(point) == Fraction(int(expected.p), int(expected.q))
        else:
            with pytest.raises(ZeroDivisionError):
                tree.value(point)


def test_data_round_trip(q4_solver) -> None:
    """Every formula of the solver survives JSON data and SymPy and back unchanged."""
    answers = q4_solver.solve(HOMEWORK)
    formulas = [value.expr for path, value in answers.items() if path.startswith("formulas.")]
    assert len(formulas) == 13
    for tree in formulas:
        assert from_data(json.loads(json.dumps(tree.to_data()))) == tree
        assert from_sympy(tree.to_sympy()) == tree


@pytest.mark.parametrize("data", [[], ["?", "1"], ["n", 3], ["s"], ["^", ["s", "X11"], 1.5], ["^", ["s", "X11"]],
                                  ["-", ["s", "X11"], ["s", "X12"]], "X11", ["+"]])
def test_damaged_data_is_refused(data) -> None:
    """Data that is not a tree :meth:`Expr.to_data` writes is a ValueError, never a wrong tree."""
    with pytest.raises(ValueError):
        from_data(data)


def test_trees_compare_by_structure() -> None:
    """Two trees built alike are equal and hash alike; the order of a sum's terms matters to the tree."""
    a = Expr(Op.ADD, (symbol("X11"), number(2)))
    assert a == Expr(Op.ADD, (symbol("X11"), number(2))) and hash(a) == hash(Expr(Op.ADD, (symbol("X11"), number(2))))
    assert a != Expr(Op.ADD, (number(2), symbol("X11"))) and a.free == {"X11"}


@pytest.mark.parametrize("text, refused", [("1/(2*X11 - X11*2)", True), ("X12/(X11 - X11)", True),
                                           ("1/(X11 - 3)", False), ("1/(X11^2 - X11*X11 + 1)", False)])
def test_division_by_zero_as_sympy_decides_it(names, text, refused) -> None:
    """A divisor SymPy builds as 0 is refused; one that only has roots (or cancels to a non-zero number) is read."""
    if refused:
        with pytest.raises(FormulaError, match="division by zero"):
            parse_formula(text, names)
    else:
        assert isinstance(parse_formula(text, names), Expr)


@pytest.mark.parametrize("text, match", [("X11 - X11 + 5/2", Match.NUMBER_ONLY), ("5/2", Match.NUMBER_ONLY),
                                         ("2*X12 - X12*2 + 2.5", Match.NUMBER_ONLY), ("X11 + 5/2", Match.DIFFERENT),
                                         ("dL_dO11*X11 + X12*dL_dO12 + X21*dL_dO21 + X22*dL_dO22 + X11 - X11",
                                          Match.EQUAL)])
def test_a_number_written_with_cancelling_symbols_is_a_number(q4_solver, names, text, match) -> None:
    """``X11 - X11 + 5/2`` is the bare number 5/2, as SymPy builds it; ``X11 + 5/2`` is a formula."""
    reference = q4_solver.solve(HOMEWORK)["formulas.dL_dF11"]
    assert reference.number == Fraction(5, 2)
    assert compare(parse_formula(text, names), reference) is match


_CALLS: list[tuple[int, frozenset[str]]] = []


@stored
def _derive(size: int, mistakes: frozenset[str]) -> dict[object, object]:
    """A stand-in derivation: counts its calls."""
    _CALLS.append((size, mistakes))
    return {(1, size): -symbol("X11"), "n": Fraction(1, 3), "t": (1, "a", None, True)}


def test_stored_results_are_kept_and_read_back(tmp_path) -> None:
    """With a folder set, a result is written once and read back equal; a damaged file is derived again."""
    keep_in(tmp_path)
    try:
        _derive.cache_clear()
        first = _derive(2, frozenset({"b", "a"}))
        files = list(tmp_path.iterdir())
        assert len(files) == 1 and len(_CALLS) == 1
        _derive.cache_clear()
        assert _derive(2, frozenset({"a", "b"})) == first and len(_CALLS) == 1  # read from the file
        files[0].write_text('{"d": [[{"t": [1, 2]}, {"e": ["?"]}]]}')
        _derive.cache_clear()
        assert _derive(2, frozenset({"a", "b"})) == first and len(_CALLS) == 2  # derived again, and kept
        _derive.cache_clear()
        assert _derive(2, frozenset({"a", "b"})) == first and len(_CALLS) == 2
    finally:
        keep_in(None)
        _derive.cache_clear()


def test_nothing_is_kept_without_a_folder(tmp_path, monkeypatch) -> None:
    """Without a folder no file is written anywhere; an empty GRADER_CACHE_DIR means no folder."""
    monkeypatch.setenv(stored_module.ENVIRONMENT, "")
    assert stored_module.user_cache_folder() is None
    monkeypatch.setenv(stored_module.ENVIRONMENT, str(tmp_path / "x"))
    assert stored_module.user_cache_folder() == tmp_path / "x"
    _derive.cache_clear()
    _derive(3, frozenset())
    assert not (tmp_path / "x").exists()


def _check_with_import_times(submission: str, folder: str, hash_seed: str,
                             problems: Path = PROBLEMS) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, stored_module.ENVIRONMENT: folder, "PYTHONHASHSEED": hash_seed}
    return subprocess.run([sys.executable, "-X", "importtime", "-m", "grader.cli", "check",
                           str(SUBMISSIONS / submission), "--problems", str(problems)],
                          capture_output=True, text=True, env=environment, check=True)


def _problems_without_derivations(tmp_path: Path) -> Path:
    """A copy of the problems without their shipped derivations (every formula derived with SymPy)."""
    copy = tmp_path / "problems"
    shutil.copytree(PROBLEMS, copy, ignore=shutil.ignore_patterns(stored_module.SHIPPED, "__pycache__"))
    return copy


def test_checks_with_shipped_derivations_import_no_sympy(tmp_path) -> None:
    """With the problems' shipped derivations, even a first check that keeps nothing never imports SymPy,
    and prints what a check that derives everything with SymPy prints (wrong formulas diagnosed too)."""
    derived = _problems_without_derivations(tmp_path)
    for submission in ("answer-key", "mistake-kernel-flipped", "seed-writeup"):
        shipped = _check_with_import_times(submission, "", "2")
        assert "sympy" not in shipped.stderr, submission
        deriving = _check_with_import_times(submission, "", "3", derived)
        assert "| sympy\n" in deriving.stderr
        assert shipped.stdout == deriving.stdout and "q4" in shipped.stdout


def test_later_checks_import_no_sympy(tmp_path) -> None:
    """Without shipped derivations, the first `grade check` derives Q4 with SymPy and keeps it; later ones
    (other hash seed, wrong formulas diagnosed too) never import SymPy and print what a check that keeps
    nothing prints."""
    problems = _problems_without_derivations(tmp_path)
    kept = str(tmp_path / "kept")
    first = _check_with_import_times("answer-key", kept, "1", problems)
    assert "| sympy\n" in first.stderr
    for submission in ("answer-key", "mistake-kernel-flipped", "seed-writeup"):
        later = _check_with_import_times(submission, kept, "2", problems)
        assert "sympy" not in later.stderr, submission
        assert later.stdout == _check_with_import_times(submission, "", "3", problems).stdout and "q4" in later.stdout


def test_shipped_derivations_are_fresh(tmp_path) -> None:
    """The problems' derivations/ folders hold exactly what `grade derive` writes now (else: run it)."""
    copy = _problems_without_derivations(tmp_path)
    result = subprocess.run([sys.executable, "-m", "grader.cli", "derive", "--problems", str(copy)],
                            capture_output=True, text=True, check=True)
    assert "6 derivations in" in result.stdout
    for made in sorted(copy.glob(f"*/{stored_module.SHIPPED}")):
        shipped = PROBLEMS / made.parent.name / stored_module.SHIPPED
        assert sorted(p.name for p in shipped.iterdir()) == sorted(p.name for p in made.iterdir()), \
            f"{shipped} is stale: run `grade derive`"
        for file in made.iterdir():
            assert (shipped / file.name).read_bytes() == file.read_bytes(), f"{shipped} is stale: run `grade derive`"
    assert {p.parent.name for p in PROBLEMS.glob(f"*/{stored_module.SHIPPED}")} == \
        {p.parent.name for p in copy.glob(f"*/{stored_module.SHIPPED}")}


_SOLVER_SOURCE = """
from grader.formulas.expr import mul, number, symbol
from grader.formulas.stored import stored

CALLS = []


@stored
def derive(size):
    CALLS.append(size)
    return {"x": mul(symbol("X11"), number(size))}
"""


def _import_solver(folder: Path, name: str):
    """The module ``solver.py`` in ``folder``, imported afresh under ``name``."""
    spec = importlib.util.spec_from_file_location(name, folder / "solver.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_shipped_derivations_are_read_and_stale_ones_removed(tmp_path) -> None:
    """`ship_derivations` writes what loading derives beside the solver and removes the rest; a fresh import
    reads it without deriving; a changed solver ignores the old file, derives again and keeps nothing there."""
    folder = tmp_path / "p1"
    folder.mkdir()
    (folder / "solver.py").write_text(_SOLVER_SOURCE)
    shipped = folder / stored_module.SHIPPED
    shipped.mkdir()
    (shipped / "stale.json").write_text("{}")
    (tmp_path / "p2" / stored_module.SHIPPED).mkdir(parents=True)
    (tmp_path / "p2" / stored_module.SHIPPED / "old.json").write_text("{}")
    def load() -> list[Path]:
        _import_solver(folder, "shipped_solver").derive(3)
        return [tmp_path / "p2" / stored_module.SHIPPED]

    written = stored_module.ship_derivations(load)
    assert written == {shipped.resolve(): 1}
    assert not (shipped / "stale.json").exists() and len(list(shipped.iterdir())) == 1
    assert not list((tmp_path / "p2" / stored_module.SHIPPED).iterdir())
    module = _import_solver(folder, "shipped_solver")
    assert module.derive(3) == {"x": mul(symbol("X11"), number(3))} and module.CALLS == []  # read, not derived
    (folder / "solver.py").write_text(_SOLVER_SOURCE + "\n# changed\n")
    changed = _import_solver(folder, "shipped_solver")
    assert changed.derive(3) == {"x": mul(symbol("X11"), number(3))} and changed.CALLS == [3]
    assert len(list(shipped.iterdir())) == 1  # outside `grade derive`, nothing is written there


def _random_polynomial_tree(rng: random.Random, depth: int = 0) -> Expr:
    """A random tree of sums, products, negations, whole powers and divisions by numbers."""
    names = ["X11", "X_1_10", "F22", "dL_dO11", "dO11_dF22"]
    choice = rng.random()
    if depth > 3 or choice < 0.3:
        return symbol(rng.choice(names)) if rng.random() < 0.6 else number(Fraction(rng.randint(-9, 9), rng.choice([1, 2, 4])))
    if choice < 0.55:
        return Expr(Op.ADD, tuple(_random_polynomial_tree(rng, depth + 1) for _ in range(rng.randint(2, 3))))
    if choice < 0.8:
        return Expr(Op.MUL, tuple(_random_polynomial_tree(rng, depth + 1) for _ in range(rng.randint(2, 3))))
    if choice < 0.9:
        return -_random_polynomial_tree(rng, depth + 1)
    if choice < 0.95:
        return Expr(Op.POW, (number(rng.choice([2, -3, Fraction(1, 2)])), rng.choice([-2, -1, 2])))
    return Expr(Op.POW, (_random_polynomial_tree(rng, depth + 1), rng.randint(0, 3)))


def test_multiplied_out_terms_are_sympys_terms() -> None:
    """On 500 random polynomial trees, the terms and their texts are exactly those of SymPy's expand and str."""
    rng = random.Random(20261126)
    for _ in range(500):
        tree = _random_polynomial_tree(rng)
        mine = {polynomial.term_text(m, c): polynomial.degree(m) for m, c in polynomial.expand(tree).items()}
        terms = sympy.Add.make_args(sympy.expand(tree.to_sympy()))
        theirs = {str(t): sympy.Poly(t, *t.free_symbols).total_degree() if t.free_symbols else 0
                  for t in terms if t != 0}
        assert mine == theirs, tree.to_sympy()


def test_division_by_symbols_is_left_to_sympy(names) -> None:
    """A tree that divides by symbols, or multiplies out past the cap, is NotPolynomial, not guessed at."""
    with pytest.raises(polynomial.NotPolynomial):
        polynomial.expand(parse_formula("X11^2/X11", names))
    with pytest.raises(polynomial.NotPolynomial):
        polynomial.expand(parse_formula("(X11+X12+X13+X21+X22+X23+X31+X32+X33+F11)^8", names))
    assert polynomial.expand(parse_formula("X11/4 - X11*0.25 + 2/(1/3)", names)) == {(): Fraction(6)}


@pytest.mark.parametrize("text, diagnosis, terms", [
    ("-(X11*dL_dO11 + X12*dL_dO12 + X21*dL_dO21 + X22*dL_dO22)", "sign_wrong", ()),
    ("X11*dL_dO11 + X12*dL_dO12 + X21*dL_dO21", "term_missing", ("X22*dL_dO22",)),
    ("X11/4 + X12/4 + X21/4 + X22/4 + 3*F11/4", "term_extra", ("3*F11/4",)),
    ("X11*dL_dO11 X12*dL_dO12 + X21*dL_dO21 + X22*dL_dO22", "operator_missing", ("X11*X12*dL_dO11*dL_dO12",)),
    ("X11^2/X11 * dL_dO11 + X12*dL_dO12 + X21*dL_dO21", "term_missing", ("X22*dL_dO22",)),  # through SymPy
])
def test_term_diagnoses_with_and_without_sympy(q4_solver, names, text, diagnosis, terms) -> None:
    """Each term diagnosis names SymPy's terms, whether the formula is multiplied out here or by SymPy."""
    reference = q4_solver.solve(HOMEWORK)["formulas.dL_dF11"]
    report = diagnose_terms(parse_formula(text, names), reference)
    assert report is not None and report.diagnosis.value == diagnosis and report.terms == terms
