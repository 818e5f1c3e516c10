"""The formula parser: every notation of the contract, helpful errors, and hostile input refused without running it."""

from __future__ import annotations

import builtins

import pytest
import sympy
import sympy.parsing.sympy_parser

from grader.errors import ValueReadError
from grader.formulas.cache import read_formula
from grader.formulas.parse import FormulaError, local_name, parse_formula

HOMEWORK = {"X": [[3, 4, 5], [2, 1, -3], [4, -2, 0]], "F": [[2, 0], [-3, 1]],
            "stride": 1, "padding": 0, "head": "gap", "upstream": 1}

X11, X12, F11, F22 = sympy.symbols("X11 X12 F11 F22")
G11, G12, G21, G22 = sympy.symbols("dL_dO11 dL_dO12 dL_dO21 dL_dO22")


def parsed(text: str, names: frozenset[str]) -> sympy.Expr:
    """The SymPy expression of a parsed formula (the parser builds a tree; SymPy replays it)."""
    return parse_formula(text, names).to_sympy()


@pytest.fixture(scope="module")
def names(q4_solver) -> frozenset[str]:
    """The symbols of the homework's Q4 (X11..X33, F11..F22, dL_dO11..dL_dO22, local gradients)."""
    return q4_solver.symbols(HOMEWORK)


# --- notations --------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["X11", "X_11", "X_{11}", "X_{1,1}", "x11", "x_{1,1}", "X_{ 1 , 1 }"])
def test_entry_notations(names, text) -> None:
    """Every spelling of row 1, column 1 of X is the symbol X11."""
    assert parsed(text, names) == X11


@pytest.mark.parametrize("text", [
    "dL_dO11", "dL/dO11", "∂L/∂O11", "∂L/∂O_{11}", "∂L / ∂O_11",
    r"\frac{\partial L}{\partial O_{11}}", r"\partial L/\partial O_{11}", r"\frac{dL}{dO_{11}}",
    r"\dfrac{\partial L}{\partial O_{1,1}}",
])
def test_upstream_gradient_notations(names, text) -> None:
    """Every spelling of ∂L/∂O11 is the symbol dL_dO11."""
    assert parsed(text, names) == G11


@pytest.mark.parametrize("text", [
    "X11*F11", "X11×F11", "X11·F11", r"X11 \times F11", r"X11\cdot F11", "X11 F11", "X11F11", "X_{11}F_{11}",
    r"$X_{11} \cdot F_{11}$", "F11*X11",
])
def test_product_notations(names, text) -> None:
    """*, ×, ·, \\times, \\cdot and juxtaposition all mean the product X11·F11."""
    assert parsed(text, names) == X11 * F11


@pytest.mark.parametrize("text", ["X11^2", "X11**2", "X11^{2}", "X11^(2)", "X11 X11"])
def test_power_notations(names, text) -> None:
    """^ and ** (with or without braces) mean a power."""
    assert parsed(text, names) == X11 ** 2


@pytest.mark.parametrize("text, expected", [
    (r"\frac{X11}{2}", X11 / 2),
    (r"\frac{1}{4}", sympy.Rational(1, 4)),
    ("X11/4", X11 / 4),
    (r"\frac{X11 + X12}{4}", (X11 + X12) / 4),
    ("(X11 + X12)*2", 2 * X11 + 2 * X12),
    ("{X11 + X12}*2", 2 * X11 + 2 * X12),
    ("[X11 + X12]*2", 2 * X11 + 2 * X12),
    (r"\left(X11 + X12\right) \cdot 2", 2 * X11 + 2 * X12),
    ("2(X11 + X12)", 2 * X11 + 2 * X12),
    ("X11 - -X12", X11 + X12),
    ("-X11 + +X12", X12 - X11),
])
def test_fractions_and_brackets(names, text, expected) -> None:
    """\\frac, /, parentheses, braces, brackets and \\left( \\right) group as in mathematics."""
    assert sympy.expand(parsed(text, names) - expected) == 0


@pytest.mark.parametrize("text, expected", [
    ("۲ X11", 2 * X11),
    ("۲X11", 2 * X11),
    ("۰٫۲۵", sympy.Rational(1, 4)),
    ("۰.۲۵ X11", X11 / 4),
    ("٠٫٢٥", sympy.Rational(1, 4)),            # Arabic-Indic digits
    ("X۱۱", X11),
    ("−X11", -X11),                            # U+2212 minus sign
    ("X11 − X12", X11 - X12),
    ("0.25", sympy.Rational(1, 4)),
    (".5 X11", X11 / 2),
])
def test_persian_digits_and_unicode_minus(names, text, expected) -> None:
    """Persian/Arabic digits, the Arabic decimal separator and the Unicode minus read as their ASCII meaning."""
    assert parsed(text, names) == expected


def test_numbers_are_exact(names) -> None:
    """Decimals become exact rationals (0.1 is 1/10, not a float)."""
    value = parsed("0.1", names)
    assert value == sympy.Rational(1, 10) and value.is_Rational


@pytest.mark.parametrize("text", [
    r"\frac{\partial O_{11}}{\partial F_{22}}", "∂O11/∂F22", "∂O_{11}/∂F_{22}", r"\partial O_{11}/\partial F_{22}",
    r"\frac{\partial O_{1,1}}{\partial F_{2,2}}",
])
def test_local_gradient_notations(names, text) -> None:
    """A local gradient ∂O11/∂F22 in any spelling is the symbol named by local_name (dO11_dF22)."""
    assert local_name((1, 1), "F", (2, 2)) == "dO11_dF22"
    assert parsed(text, names) == sympy.Symbol("dO11_dF22")


def test_contract_latex_formula(names) -> None:
    """The contract's LaTeX dL_dX22 parses to the homework's chain-rule sum."""
    text = (r"\frac{\partial L}{\partial O_{11}} F_{22} + \frac{\partial L}{\partial O_{12}} F_{21} + "
            r"\frac{\partial L}{\partial O_{21}} F_{12} + \frac{\partial L}{\partial O_{22}} F_{11}")
    F12, F21 = sympy.symbols("F12 F21")
    assert parsed(text, names) == G11 * F22 + G12 * F21 + G21 * F12 + G22 * F11


def test_mixed_notations_agree(names) -> None:
    """One formula written in plain, Unicode and LaTeX notations gives the same SymPy expression."""
    plain = parsed("dL_dO11*X11 + dL_dO12*X12", names)
    unicode = parsed("∂L/∂O11 × X_11 + ∂L/∂O_{12} · x12", names)
    latex = parsed(r"\frac{\partial L}{\partial O_{11}} \times X_{1,1} + \frac{\partial L}{\partial O_{12}} X_{12}",
                          names)
    assert plain == unicode == latex == G11 * X11 + G12 * X12


@pytest.mark.parametrize("value, shown", [(5, "got 5"), ([1, 2], "got [1, 2]"), ({"a": 1}, "got {'a': 1}")])
def test_a_formula_that_is_not_a_string_is_shown_as_given(names, value, shown) -> None:
    """A number, list or table where a formula belongs is refused, showing what was given (not a Python type)."""
    with pytest.raises(FormulaError) as caught:
        parse_formula(value, names)
    assert "as a string" in caught.value.en and shown in caught.value.en and shown[4:] in caught.value.fa
    assert type(value).__name__ not in caught.value.en


# --- unknown symbols ---------------------------------------------------------------------------

def test_unknown_symbol_has_did_you_mean_hint(names) -> None:
    """Y11 is refused with a hint naming X11, in English and Persian."""
    with pytest.raises(FormulaError) as caught:
        parse_formula("Y11 + F11", names)
    assert "Y11" in caught.value.en and "did you mean X11" in caught.value.en
    assert "X11" in caught.value.fa


@pytest.mark.parametrize("text", ["X44", "F33", "dL_dO33", "X11 + X41", "∂O33/∂F11"])
def test_out_of_range_entries_are_refused(names, text) -> None:
    """Entries outside the 3×3 X, the 2×2 F or the 2×2 O are unknown symbols."""
    with pytest.raises(FormulaError, match="unknown symbol"):
        parse_formula(text, names)


@pytest.mark.parametrize("text", ["pi", "E", "I", "oo", "a", "x", "sin", "print(1)", "open"])
def test_bare_names_are_not_sympy_names(names, text) -> None:
    """Names SymPy or Python would know (pi, E, I, oo, print) are just unknown symbols here."""
    with pytest.raises(FormulaError, match="unknown symbol"):
        parse_formula(text, names)


# --- hostile input ----------------------------------------------------------------------------

HOSTILE = [
    "9**9**9**9",
    "9^9^9^9",
    "((((9^8)^8)^8)^8)",
    "(((X11^8)^8)^8)",
    "X11^100",
    "X11^(1/2)",
    "X11^X12",
    "X11^-9",
    "2^0.5",
    "(" * 100_000 + "1" + ")" * 100_000,
    "(" * 41 + "X11" + ")" * 41,
    "-" * 500 + "X11",
    "X11" * 350_000,
    "1" * 1_000_000,
    "__import__('os').getcwd()",
    "lambda: 0",
    "X11.__class__",
    "().__class__.__bases__[0]",
    "exec('1')",
    "eval('1')",
    "\\input{/etc/passwd}",
    "\\include{/etc/passwd}",
    "\\def\\x{1}",
    "\\write18{ls}",
    "1/0",
    "X11/0",
    "\\frac{X11}{0}",
    "\\frac{1}{X11-X11}",
    "(X11 - X11)^-1",
    "X11\x00",
    "X11\x07 + X12",
    "\x1b[31mX11",
    "X11\u202e + X12",
    "1" * 100,
    "X11+" * 500,
    "X11+" * 240 + "X11",
    "",
    "   ",
    "X11 +",
    "X11 = 2",
    "X11; X12",
    "`ls`",
    "%(x)s",
    "{X11",
    "X11)",
    "\\frac{X11}",
    "os.system('ls')",
    "X11 if 1 else 0",
]


@pytest.mark.parametrize("text", HOSTILE, ids=[f"hostile{i}" for i in range(len(HOSTILE))])
def test_hostile_input_is_refused(names, text) -> None:
    """Each hostile or malformed formula raises FormulaError with an English and a Persian reason."""
    with pytest.raises(FormulaError) as caught:
        parse_formula(text, names)
    assert caught.value.en and caught.value.fa


def test_enough_hostile_inputs() -> None:
    """The hostile list holds at least 20 inputs."""
    assert len(HOSTILE) >= 20


@pytest.mark.parametrize("text", ["X11/(X11-X11)", "X11/(X12-X12)", "0^-1"])
def test_division_by_a_zero_expression_does_not_crash(names, text) -> None:
    """A denominator that is identically zero is refused as a FormulaError, never a crash or zoo."""
    try:
        result = parsed(text, names)
    except FormulaError as error:
        assert "zero" in error.en
    else:
        assert result.is_finite is not False and sympy.zoo not in result.atoms() and sympy.nan not in result.atoms()


@pytest.mark.parametrize("text", ["((9^8)^8)", "(X11^8)^8", "X11^-2/X11", "X11^-1"])
def test_large_but_bounded_powers_parse_safely(names, text) -> None:
    """Powers within the caps (degree at most 64) parse to a SymPy object without error."""
    assert isinstance(parsed(text, names), sympy.Basic)


@pytest.mark.parametrize("value", [None, 12, 2.5, ["X11"], {"a": 1}, b"X11"])
def test_non_string_values_are_refused(names, value) -> None:
    """Only strings are formulas: numbers, lists, bytes and None are FormulaError."""
    with pytest.raises(FormulaError):
        parse_formula(value, names)


def payloads(target: str) -> list[str]:
    """Strings that would create ``target`` if any layer evaluated them as Python or shell."""
    return [
        f"__import__('pathlib').Path('{target}').touch()",
        f"__import__('os').system('touch {target}')",
        f"open('{target}', 'w').write('x')",
        f"exec(\"open('{target}','w')\")",
        f"eval(\"__import__('pathlib').Path('{target}').touch()\")",
        f"Symbol('x').__class__.__init__.__globals__['__builtins__']['open']('{target}','w')",
        f"X11 + __import__('pathlib').Path('{target}').touch()",
        f"\\immediate\\write18{{touch {target}}}",
        f"$(touch {target})",
        f"`touch {target}`",
    ]


def test_payloads_are_never_executed(names, tmp_path) -> None:
    """Code-shaped payloads are refused by the parser and by the cached reader, and the sentinel file never appears."""
    target = tmp_path / "pwned"
    for text in payloads(str(target)):
        with pytest.raises(FormulaError):
            parse_formula(text, names)
        with pytest.raises(ValueReadError):
            read_formula(text, names)
        assert not target.exists(), text
    assert not target.exists()


def test_parsing_never_calls_eval_exec_or_sympify(names, tmp_path, monkeypatch) -> None:
    """With eval, exec, sympy.sympify and parse_expr booby-trapped, valid formulas still parse and hostile ones are refused."""
    def trap(*args, **kwargs):
        raise AssertionError("the formula parser must not evaluate text")

    monkeypatch.setattr(builtins, "eval", trap)
    monkeypatch.setattr(builtins, "exec", trap)
    monkeypatch.setattr(sympy, "sympify", trap)
    monkeypatch.setattr(sympy.parsing.sympy_parser, "parse_expr", trap)
    valid = {
        "dL_dO11*X11 + dL_dO12*X12 + dL_dO21*X21 + dL_dO22*X22": G11 * X11 + G12 * X12 + G21 * sympy.Symbol("X21")
        + G22 * sympy.Symbol("X22"),
        r"\frac{\partial L}{\partial O_{11}} F_{22}": G11 * F22,
        "∂L/∂O_{11} × F_{1,1} − ۰٫۲۵ X11": G11 * F11 - X11 / 4,
        r"\frac{X11 + X12}{4}": (X11 + X12) / 4,
        "∂O11/∂F22 * dL_dO11": sympy.Symbol("dO11_dF22") * G11,
        "(X11^2)^3 · 2": 2 * X11 ** 6,
        "x_{1,2} F11": X12 * F11,
    }
    for text, expected in valid.items():
        assert sympy.expand(parsed(text, names) - expected) == 0
        assert sympy.expand(read_formula(" " + text + "  ", names).to_sympy() - expected) == 0  # and through the cached reader
    for text in payloads(str(tmp_path / "pwned")) + ["eval('1')", "exec('1')", "9**9**9**9"]:
        with pytest.raises(FormulaError):
            parse_formula(text, names)
    assert not (tmp_path / "pwned").exists()


def test_formula_error_carries_english_and_persian(names) -> None:
    """FormulaError has a non-empty .en and .fa (the Persian one actually Persian) and is a ValueReadError."""
    with pytest.raises(FormulaError) as caught:
        parse_formula("X11 +* X12", names)
    error = caught.value
    assert isinstance(error, ValueReadError)
    assert error.en.strip() and error.fa.strip()
    assert any("\u0600" <= c <= "\u06ff" for c in error.fa)
    assert str(error) == error.en


def test_cached_reader_gives_the_same_expression(names) -> None:
    """read_formula (with whitespace normalised) returns the same expression as parse_formula."""
    text = "dL_dO11 * X11  +   dL_dO12 * X12"
    assert read_formula(text, names) == parse_formula(text, names) == read_formula(" ".join(text.split()), names)
