"""Parsing formulas (plain math or LaTeX) into expression trees, safely.

A small tokenizer and a recursive-descent parser build the trees of
:mod:`grader.formulas.expr` directly; nothing is evaluated, and SymPy is not
imported. Length, token count, nesting depth, tree size
and exponents are capped before and while parsing, so hostile input such as
``9**9**9**9`` or 100,000 nested parentheses is refused in microseconds.

Accepted: numbers (Persian digits too), ``+ - * / ^ **``, ``× · \\times \\cdot``,
implicit products, parentheses and braces, ``\\frac{a}{b}``, entry names
``X11 X_11 X_{11} X_{1,1}``, upstream gradients ``dL_dO11 dL/dO11 ∂L/∂O_{11}
\\frac{\\partial L}{\\partial O_{11}}``, and local gradients ``∂O11/∂F22``.
"""

from __future__ import annotations

import functools
import random
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Collection

from grader.errors import ValueReadError
from grader.formulas.expr import Expr, add, mul, number, power, symbol
from grader.text import closest, normalize_digits
from grader.values import describe

MAX_CHARS = 1000
"""Longest formula read; a chain-rule entry of a homework is a few hundred characters."""
MAX_TOKENS = 400
MAX_DEPTH = 40
"""Deepest nesting of parentheses, fractions and powers."""
MAX_NODES = 400
"""Most numbers, symbols and operations in one formula."""
MAX_EXPONENT = 8
MAX_DEGREE = 64
"""Largest degree a formula may reach (numbers count as degree 1): bounds nested powers."""
MAX_NUMBER_DIGITS = 30

_REWRITES = (
    (re.compile(r"\\(?:left|right|displaystyle|,|;|!|:| |quad|qquad)"), " "),
    (re.compile(r"\\(?:times|cdot|ast)\b|[×·⋅∙✕]"), "*"),
    (re.compile(r"\\div\b|÷"), "/"),
    (re.compile(r"\\partial\b"), "∂"),
    (re.compile(r"\\[dt]frac\b"), r"\\frac"),
    (re.compile(r"[\u2212\u2013\u2010\u2012\ufe63\uff0d]"), "-"),
    (re.compile(r"\$"), " "),
)
_INDEX = r"_?(?:\{[\d\s,]+\}|\d+)"
_TOKEN = re.compile(
    rf"""(?P<ws>\s+)
    |(?P<grad_frac>\\frac\s*\{{\s*[∂d]\s*L\s*\}}\s*\{{\s*[∂d]\s*O\s*(?P<gf_i>{_INDEX})\s*\}})
    |(?P<local_frac>\\frac\s*\{{\s*[∂d]\s*O\s*(?P<lf_o>{_INDEX})\s*\}}\s*\{{\s*[∂d]\s*(?P<lf_w>[A-Za-z])\s*(?P<lf_i>{_INDEX})\s*\}})
    |(?P<grad>[∂d]\s*L\s*[/_]\s*[∂d]\s*O\s*(?P<g_i>{_INDEX}))
    |(?P<local>[∂d]\s*O\s*(?P<l_o>{_INDEX})\s*/\s*[∂d]\s*(?P<l_w>[A-Za-z])\s*(?P<l_i>{_INDEX}))
    |(?P<number>\d+(?:\.\d*)?|\.\d+)
    |(?P<frac>\\frac\b)
    |(?P<command>\\[A-Za-z]+)
    |(?P<symbol>[A-Za-z]+(?P<s_i>{_INDEX})?)
    |(?P<op>\*\*|[-+*/^(){{}}\[\]])""",
    re.VERBOSE,
)
_OPEN = {"(": ")", "{": "}", "[": "]"}


class FormulaError(ValueReadError):
    """A formula that cannot be read, with the reason in English and Persian."""


@dataclass(frozen=True)
class Token:
    """One token: its kind (``number``, ``symbol``, ``op``, ``frac``) and text or symbol name."""

    kind: str
    text: str
    position: int


def _index(raw: str) -> tuple[int, int]:
    digits = raw.lstrip("_").strip("{}").strip()
    if "," in digits:
        parts = [p.strip() for p in digits.split(",")]
        if len(parts) == 2 and all(p.isdigit() for p in parts):
            return int(parts[0]), int(parts[1])
    elif digits.isdigit() and len(digits) == 2:
        return int(digits[0]), int(digits[1])
    raise FormulaError(f"cannot read the index {raw!r}: write two digits (X_12) or X_{{1,10}}",
                       f"اندیس {raw!r} خوانده نشد: دو رقم (X_12) یا X_{{1,10}} بنویسید")


def entry_name(name: str, row: int, column: int) -> str:
    """The canonical symbol name of a matrix entry: ``X11``, or ``X_1_10`` past 9."""
    return f"{name}{row}{column}" if row < 10 and column < 10 else f"{name}_{row}_{column}"


def gradient_name(row: int, column: int) -> str:
    """The canonical name of the upstream gradient ∂L/∂O_ij."""
    return entry_name("dL_dO", row, column)


def local_name(o_index: tuple[int, int], wrt: str, index: tuple[int, int]) -> str:
    """The canonical name of a local gradient ∂O_kl/∂W_ij."""
    return f"{entry_name('dO', *o_index)}_{entry_name('d' + wrt.upper(), *index)}"


def tokenize(text: str) -> list[Token]:
    """Split a formula into tokens, after normalising digits and LaTeX spellings.

    Raises:
        FormulaError: On over-long input, unknown characters or LaTeX commands.
    """
    if len(text) > MAX_CHARS:
        raise FormulaError(f"formula too long ({len(text)} characters; at most {MAX_CHARS})",
                           f"فرمول بیش از حد طولانی است ({len(text)} نویسه؛ حداکثر {MAX_CHARS})")
    text = normalize_digits(text).replace("\u066b", ".")
    for pattern, replacement in _REWRITES:
        text = pattern.sub(replacement, text)
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            char = text[position]
            raise FormulaError(f"unexpected character {char!r} at position {position + 1}",
                               f"نویسه نامنتظره {char!r} در جایگاه {position + 1}")
        kind = match.lastgroup
        position = match.end()
        if kind == "ws":
            continue
        if kind in ("grad_frac", "grad"):
            token = Token("symbol", gradient_name(*_index(match["gf_i"] or match["g_i"])), match.start())
        elif kind in ("local_frac", "local"):
            o_index = _index(match["lf_o"] or match["l_o"])
            token = Token("symbol", local_name(o_index, match["lf_w"] or match["l_w"],
                                               _index(match["lf_i"] or match["l_i"])), match.start())
        elif kind == "symbol":
            token = _symbol_token(match, match.start())
        elif kind == "command":
            raise FormulaError(f"unsupported LaTeX command {match[0]} (use +, -, \\times, \\frac, ^)",
                               f"دستور LaTeX {match[0]} پشتیبانی نمی‌شود (از +، -، \\times، \\frac و ^ استفاده کنید)")
        elif kind == "op":
            token = Token("op", "^" if match[0] == "**" else match[0], match.start())
        else:
            token = Token(kind, match[0], match.start())
        tokens.append(token)
        if len(tokens) > MAX_TOKENS:
            raise FormulaError(f"formula too long (more than {MAX_TOKENS} symbols and operators)",
                               f"فرمول بیش از حد طولانی است (بیش از {MAX_TOKENS} نماد و عملگر)")
    if not tokens:
        raise FormulaError("the formula is empty", "فرمول خالی است")
    return tokens


def _symbol_token(match: re.Match[str], position: int) -> Token:
    raw = match["symbol"]
    index = match["s_i"]
    letters = raw[: len(raw) - len(index)] if index else raw
    if len(letters) == 1:
        letters = letters.upper()  # x11 and X11 are the same entry
    if not index:
        return Token("symbol", letters, position)
    return Token("symbol", entry_name(letters, *_index(index)), position)


class _Parser:
    """Recursive descent over tokens, building expression trees with every cap enforced.

    Each rule returns the expression and a bound on its degree (numbers count
    as degree 1), so that nested powers such as ``((9^8)^8)^8`` are refused
    before they are built.
    """

    def __init__(self, tokens: list[Token], symbols: Collection[str]) -> None:
        self.tokens = tokens
        self.symbols = symbols
        self.position = 0
        self.depth = 0
        self.nodes = 0

    def peek(self) -> Token | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def peek_op(self, texts: str) -> Token | None:
        token = self.peek()
        return token if token is not None and token.kind == "op" and token.text in texts else None

    def take(self) -> Token:
        token = self.peek()
        if token is None:
            raise FormulaError("the formula ends too early", "فرمول ناتمام است")
        self.position += 1
        return token

    def expect(self, text: str) -> None:
        token = self.peek()
        if token is None or token.kind != "op" or token.text != text:
            found = f"{token.text!r} at position {token.position + 1}" if token else "the end"
            raise FormulaError(f"expected {text!r}, found {found}", f"{text!r} انتظار می‌رفت، اما {found} آمد")
        self.position += 1

    def count(self) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise FormulaError(f"formula too large (more than {MAX_NODES} terms and operations)",
                               f"فرمول بیش از حد بزرگ است (بیش از {MAX_NODES} جمله و عمل)")

    def nest(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise FormulaError(f"formula nested too deeply (more than {MAX_DEPTH} levels)",
                               f"تودرتویی فرمول بیش از حد است (بیش از {MAX_DEPTH} سطح)")

    @staticmethod
    def bounded(degree: int) -> int:
        if degree > MAX_DEGREE:
            raise FormulaError(f"formula too large: its degree exceeds {MAX_DEGREE}",
                               f"فرمول بیش از حد بزرگ است: درجه آن از {MAX_DEGREE} بیشتر است")
        return degree

    def parse(self) -> Expr:
        expression, _ = self.sum()
        token = self.peek()
        if token is not None:
            raise FormulaError(f"unexpected {token.text!r} at position {token.position + 1}",
                               f"{token.text!r} نامنتظره در جایگاه {token.position + 1}")
        return expression

    def sum(self) -> tuple[Expr, int]:
        self.nest()
        first, degree = self.product()
        terms = [first]
        while (token := self.peek_op("+-")) is not None:
            self.take()
            self.count()
            term, term_degree = self.product()
            terms.append(-term if token.text == "-" else term)
            degree = max(degree, term_degree)
        self.depth -= 1
        return add(*terms), degree

    def starts_factor(self, token: Token | None) -> bool:
        return token is not None and (token.kind in ("number", "symbol", "frac")
                                      or (token.kind == "op" and token.text in _OPEN))

    def product(self) -> tuple[Expr, int]:
        first, degree = self.unary()
        factors = [first]
        while True:
            operator = self.peek_op("*/")
            if operator is None and not self.starts_factor(self.peek()):  # else an implicit product
                return mul(*factors), degree
            if operator is not None:
                self.take()
            self.count()
            factor, factor_degree = self.unary()
            degree = self.bounded(degree + factor_degree)
            if operator is not None and operator.text == "/":
                if _is_zero(factor):
                    raise FormulaError("division by zero", "تقسیم بر صفر")
                factor = power(factor, -1)
            factors.append(factor)

    def unary(self) -> tuple[Expr, int]:
        token = self.peek_op("+-")
        if token is None:
            return self.power()
        self.take()
        self.nest()
        operand, degree = self.unary()
        self.depth -= 1
        return (-operand if token.text == "-" else operand), degree

    def power(self) -> tuple[Expr, int]:
        base, degree = self.atom()
        if self.peek_op("^") is None:
            return base, degree
        self.take()
        self.count()
        exponent = self.exponent()
        if self.peek_op("^") is not None:
            raise FormulaError("write powers of powers with parentheses, e.g. (a^2)^3",
                               "توانِ توان را با پرانتز بنویسید، مانند (a^2)^3")
        degree = self.bounded(degree * max(abs(exponent), 1))
        if exponent < 0 and _is_zero(base):
            raise FormulaError("division by zero", "تقسیم بر صفر")
        return power(base, exponent), degree

    def exponent(self) -> int:
        """A whole-number exponent of at most MAX_EXPONENT, possibly signed and bracketed."""
        closing = None
        if (bracket := self.peek_op("({[")) is not None:
            self.take()
            closing = _OPEN[bracket.text]
        sign = 1
        if (token := self.peek_op("+-")) is not None:
            self.take()
            sign = -1 if token.text == "-" else 1
        token = self.take()
        if token.kind != "number" or not token.text.isdigit() or int(token.text) > MAX_EXPONENT:
            raise FormulaError(f"exponents must be whole numbers from -{MAX_EXPONENT} to {MAX_EXPONENT}",
                               f"توان باید عددی صحیح از -{MAX_EXPONENT} تا {MAX_EXPONENT} باشد")
        if closing is not None:
            self.expect(closing)
        return sign * int(token.text)

    def atom(self) -> tuple[Expr, int]:
        token = self.take()
        self.count()
        if token.kind == "number":
            if len(token.text) > MAX_NUMBER_DIGITS:
                raise FormulaError(f"number too long: {token.text[:12]}...",
                                   f"عدد بیش از حد طولانی است: {token.text[:12]}...")
            return number(Fraction(token.text)), 1
        if token.kind == "symbol":
            if token.text not in self.symbols:
                hint = closest(token.text, self.symbols)
                hint_en = f"; did you mean {hint}?" if hint else ""
                hint_fa = f"؛ آیا منظورتان {hint} بود؟" if hint else ""
                raise FormulaError(f"unknown symbol {token.text}{hint_en}", f"نماد ناشناخته {token.text}{hint_fa}")
            return symbol(token.text), 1
        if token.kind == "frac":
            self.nest()
            self.expect("{")
            numerator, numerator_degree = self.sum()
            self.expect("}")
            self.expect("{")
            denominator, denominator_degree = self.sum()
            self.expect("}")
            self.depth -= 1
            if _is_zero(denominator):
                raise FormulaError("division by zero", "تقسیم بر صفر")
            return mul(numerator, power(denominator, -1)), self.bounded(numerator_degree + denominator_degree)
        if token.kind == "op" and token.text in _OPEN:
            self.nest()
            inner = self.sum()
            self.expect(_OPEN[token.text])
            self.depth -= 1
            return inner
        raise FormulaError(f"unexpected {token.text!r} at position {token.position + 1}",
                           f"{token.text!r} نامنتظره در جایگاه {token.position + 1}")


def parse_formula(text: Any, symbols: Collection[str]) -> Expr:
    """Parse a student's formula into an expression tree.

    Args:
        text: The student's value (must be a string).
        symbols: Canonical names of the symbols the problem knows (``X11``, ``dL_dO11``, ...).

    Raises:
        FormulaError: When the formula is not a string, is too large, or cannot be read.
    """
    if not isinstance(text, str):
        raise FormulaError(f"expected a formula as a string, got {describe(text)}",
                           f"فرمولی به صورت رشته انتظار می‌رفت، اما {describe(text)} داده شده است")
    tokens = tokenize(text)
    _check_nesting(tokens)
    return _Parser(tokens, symbols).parse()


def _is_zero(expr: Expr) -> bool:
    """Whether SymPy builds ``expr`` as 0 (``X11 - X11`` too), asking SymPy only when a sample point is a root.

    A tree without symbols is a number, exact (the parser has refused every
    division by zero inside it). A tree with symbols that is not zero at one
    point is not the zero SymPy would have made of it.
    """
    if not expr.free:
        return expr.value({}) == 0
    try:
        if expr.value({name: _probe(name) for name in expr.free}) != 0:
            return False
    except ZeroDivisionError:
        pass
    return bool(expr.to_sympy() == 0)


@functools.lru_cache(maxsize=1024)
def _probe(name: str) -> Fraction:
    """A fixed, unremarkable value of a symbol (not a small whole number a student might divide by)."""
    return Fraction(random.Random(name).randint(10**5, 10**6), 997)


def _check_nesting(tokens: list[Token]) -> None:
    """Refuse deep or unbalanced brackets before any recursion starts."""
    depth = 0
    for token in tokens:
        if token.kind == "op" and token.text in _OPEN:
            depth += 1
            if depth > MAX_DEPTH:
                raise FormulaError(f"formula nested too deeply (more than {MAX_DEPTH} levels)",
                                   f"تودرتویی فرمول بیش از حد است (بیش از {MAX_DEPTH} سطح)")
        elif token.kind == "op" and token.text in ")}]":
            depth -= 1
            if depth < 0:
                raise FormulaError(f"unbalanced {token.text!r} at position {token.position + 1}",
                                   f"{token.text!r} بی‌جفت در جایگاه {token.position + 1}")
    if depth:
        raise FormulaError("unbalanced brackets: a '(' or '{' is not closed", "پرانتز یا آکولاد بسته نشده است")
