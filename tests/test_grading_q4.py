"""Grading Q4 end to end: the key, the seed write-up, notations, diagnosed mistakes, shapes, tolerance, carried errors."""

from __future__ import annotations

import json
import tomllib
from fractions import Fraction

import pytest

from grader.results import Status, SubmissionStatus
from tests.conftest import ROOT, SUBMISSIONS
from tests.helpers import grade_path, grade_text, part, problem_result

KEY_FILE = ROOT / "solutions" / "answers.toml"
KEY = tomllib.loads(KEY_FILE.read_text(encoding="utf-8"))["q4"]
FORMULA_KEYS = sorted(KEY["formulas"])
MAX_Q4 = Fraction(27, 2)

FLIPPED_O = [[-7, -17], [-5, 10]]
FLIPPED_DL_DF11 = "X22*dL_dO11 + X23*dL_dO12 + X32*dL_dO21 + X33*dL_dO22"
FLIPPED_DL_DX12 = "F21*dL_dO11 + F22*dL_dO12"


def q4_table(values: dict | None = None, formulas: dict | None = None, drop: tuple[str, ...] = ()) -> str:
    """The key's [q4] table as TOML, with some values/formulas replaced and some keys left out."""
    table = {k: v for k, v in KEY.items() if k != "formulas"}
    table.update(values or {})
    entries = dict(KEY["formulas"])
    entries.update(formulas or {})
    for key in drop:
        table.pop(key, None)
        entries.pop(key, None)
    lines = ["[q4]"] + [f"{k} = {json.dumps(v)}" for k, v in table.items()]
    lines += ["", "[q4.formulas]"] + [f"{k} = {json.dumps(v)}" for k, v in entries.items()]
    return "\n".join(lines) + "\n"


def spec_of(problems):
    """The Q4 problem spec."""
    return next(p for p in problems if p.id == "q4").spec


def points(problems, part_id: str) -> Fraction:
    """The points of one Q4 part."""
    return next(p.points for p in spec_of(problems).parts if p.id == part_id)


def feedback_en(graded) -> str:
    """All English feedback of a part, joined."""
    return " ".join(m.en for m in graded.feedback)


# --- the key and the seed write-up --------------------------------------------------------------

def test_key_gets_full_marks(tmp_path, problems) -> None:
    """The answer key scores every Q4 point with every part correct and no diagnosis."""
    result = grade_text(tmp_path, problems, KEY_FILE.read_text(encoding="utf-8"), student_id="answer-key")
    q4 = problem_result(result, "q4")
    assert q4.max_score == MAX_Q4
    assert q4.score == q4.max_score
    assert all(p.status is Status.CORRECT and p.diagnosis is None for p in q4.parts)
    assert result.status is SubmissionStatus.GRADED


def test_generated_table_is_the_key(tmp_path, problems) -> None:
    """The test's own [q4] table builder reproduces the key (full marks), so the variations below start from it."""
    q4 = problem_result(grade_text(tmp_path, problems, q4_table()), "q4")
    assert q4.score == MAX_Q4


@pytest.fixture(scope="module")
def seed(problems):
    """The graded seed write-up."""
    return grade_path(SUBMISSIONS / "seed-writeup", problems).submissions[0]


def test_seed_gets_partial_credit(seed) -> None:
    """The seed write-up gets some but not all of Q4's points (exactly: O, y and 12 formulas, one at 1/4 credit)."""
    q4 = problem_result(seed, "q4")
    assert 0 < q4.score < q4.max_score
    assert q4.score == 1 + 1 + 11 * Fraction(1, 2) + Fraction(1, 2) * Fraction(1, 4)


@pytest.mark.parametrize("part_id", ["dL_dO", "dL_dF", "dL_dX"])
def test_seed_missing_numeric_gradients(seed, part_id) -> None:
    """The write-up's numeric gradients are reported missing, naming the key, with zero points."""
    graded = part(seed, part_id)
    assert (graded.status, graded.score) == (Status.MISSING, 0)
    assert part_id in feedback_en(graded) and "missing" in feedback_en(graded)


def test_seed_mislabelled_line(seed) -> None:
    """The dL_dF22 line that repeats dL_dF11 is diagnosed mislabelled, and the feedback names dL_dF11."""
    graded = part(seed, "formulas.dL_dF22")
    assert graded.diagnosis == "mislabelled"
    assert graded.status is Status.PARTIAL and graded.score == Fraction(1, 8)
    assert "dL_dF11" in feedback_en(graded)
    assert "dL_dF11" in graded.feedback[0].fa


def test_seed_garbled_last_formula(seed) -> None:
    """The garbled dL_dX33 (two lines run together) is diagnosed operator_missing and gets no points."""
    graded = part(seed, "formulas.dL_dX33")
    assert graded.diagnosis == "operator_missing"
    assert (graded.status, graded.score) == (Status.WRONG, 0)
    assert "garbled" in feedback_en(graded) and "F22^2" in feedback_en(graded)


def test_seed_other_parts_are_correct(seed) -> None:
    """O, y and every other formula of the write-up are correct."""
    for part_id in ["O", "y"] + [f"formulas.{k}" for k in FORMULA_KEYS if k not in ("dL_dF22", "dL_dX33")]:
        assert part(seed, part_id).status is Status.CORRECT, part_id


# --- notations ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name, text", [
    ("dL_dX22", r"\frac{\partial L}{\partial O_{11}} F_{22} + \frac{\partial L}{\partial O_{12}} F_{21} + "
                r"\frac{\partial L}{\partial O_{21}} F_{12} + \frac{\partial L}{\partial O_{22}} F_{11}"),
    ("dL_dF11", "dL_dO11*X11 + dL_dO12*X12 + dL_dO21*X21 + dL_dO22*X22"),
    ("dL_dF11", "(X11 + X12 + X21 + X22)/4"),
    ("dL_dF11", "0.25*X11 + 0.25*X12 + 0.25*X21 + 0.25*X22"),
    ("dL_dF11", r"\frac{1}{4}(X_{11} + X_{12} + X_{21} + X_{22})"),
    ("dL_dF11", "۰٫۲۵ × (x11 + x12 + x21 + x22)"),
    ("dL_dF12", "∂L/∂O11 · X12 + ∂L/∂O12 · X13 + ∂L/∂O21 · X22 + ∂L/∂O22 · X23"),
    ("dL_dF11", r"\frac{\partial L}{\partial O_{11}} \times \frac{\partial O_{11}}{\partial F_{11}} + "
                r"\frac{\partial L}{\partial O_{12}} \times \frac{\partial O_{12}}{\partial F_{11}} + "
                r"\frac{\partial L}{\partial O_{21}} \times \frac{\partial O_{21}}{\partial F_{11}} + "
                r"\frac{\partial L}{\partial O_{22}} \times \frac{\partial O_{22}}{\partial F_{11}}"),
    ("dL_dX11", "F_{1,1} dL/dO11"),
    ("dL_dX12", "(F11 + F12)/4"),
    ("dL_dX33", "F22 / 4"),
])
def test_other_notations_are_correct(tmp_path, problems, name, text) -> None:
    """A right formula in another notation (LaTeX, Unicode, local gradients, upstream 1/4 substituted) gets full marks."""
    graded = part(grade_text(tmp_path, problems, q4_table(formulas={name: text})), f"formulas.{name}")
    assert graded.status is Status.CORRECT and graded.score == graded.max_score


def test_exact_value_strings_in_matrices(tmp_path, problems) -> None:
    """Numeric answers written as exact strings ("1/4", Persian digits, Unicode minus) are correct."""
    text = q4_table(values={"y": "1/4", "dL_dO": [["1/4", "۰٫۲۵"], ["0.25", "2.5e-1"]],
                            "dL_dF": [["5/2", "7/4"], ["5/4", "−1"]]})
    result = grade_text(tmp_path, problems, text)
    for part_id in ("y", "dL_dO", "dL_dF"):
        assert part(result, part_id).status is Status.CORRECT, part_id


# --- diagnoses ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name, text", [("dL_dF11", "2.5"), ("dL_dF11", "5/2"), ("dL_dX12", "0.5"),
                                        ("dL_dX21", "-1/4")])
def test_bare_number_is_number_only(tmp_path, problems, name, text) -> None:
    """A bare number equal to the entry's value gets diagnosis number_only, half the points and the spec's message."""
    graded = part(grade_text(tmp_path, problems, q4_table(formulas={name: text})), f"formulas.{name}")
    assert graded.diagnosis == "number_only"
    assert (graded.status, graded.score) == (Status.PARTIAL, Fraction(1, 4))
    assert graded.feedback[0] == spec_of(problems).mistakes["number_only"].message


def test_wrong_bare_number_gets_nothing(tmp_path, problems) -> None:
    """A bare number that is not the entry's value is wrong, with the hint."""
    graded = part(grade_text(tmp_path, problems, q4_table(formulas={"dL_dF11": "2.25"})), "formulas.dL_dF11")
    assert (graded.status, graded.score, graded.diagnosis) == (Status.WRONG, 0, None)
    assert "dL/dO_kl" in feedback_en(graded)


# Each case: values, formulas, keys left out, graded part, diagnosis, credit, text the feedback must hold.
DIAGNOSES = {
    "kernel_flipped_O": ({"O": FLIPPED_O}, {}, (), "O", "kernel_flipped", Fraction(1, 2), "flipped"),
    "kernel_flipped_dL_dF11": (
        {"O": FLIPPED_O, "y": -4.75}, {"dL_dF11": FLIPPED_DL_DF11},
        tuple(k for k in FORMULA_KEYS if k != "dL_dF11") + ("dL_dF", "dL_dX"),
        "formulas.dL_dF11", "kernel_flipped", Fraction(1, 2), "flipped"),
    "kernel_flipped_dL_dX12": (
        {"O": FLIPPED_O, "y": -4.75}, {"dL_dX12": FLIPPED_DL_DX12},
        tuple(k for k in FORMULA_KEYS if k != "dL_dX12") + ("dL_dF", "dL_dX"),
        "formulas.dL_dX12", "kernel_flipped", Fraction(1, 2), "flipped"),
    "kernel_flipped_dL_dF": ({"dL_dF": [[-1, 1.25], [1.75, 2.5]]}, {}, (), "dL_dF", "kernel_flipped",
                             Fraction(1, 2), "flipped"),
    "gap_scale_forgotten_dL_dO": ({"dL_dO": [[1, 1], [1, 1]]}, {}, (), "dL_dO", "gap_scale_forgotten",
                                  Fraction(1, 2), "1/4"),
    "gap_scale_forgotten_dL_dF": ({"dL_dF": [[10, 7], [5, -4]]}, {}, (), "dL_dF", "gap_scale_forgotten",
                                  Fraction(1, 2), "1/4"),
    "gap_scale_forgotten_dL_dX": ({"dL_dX": [[2, 2, 0], [-1, 0, 1], [-3, -2, 1]]}, {}, (), "dL_dX",
                                  "gap_scale_forgotten", Fraction(1, 2), "1/4"),
    "x_f_swapped_dL_dF11": ({}, {"dL_dF11": "F11*dL_dO11 + F12*dL_dO12 + F21*dL_dO21 + F22*dL_dO22"}, (),
                            "formulas.dL_dF11", "x_f_swapped", Fraction(1, 4), "swapped"),
    "x_f_swapped_dL_dX12": ({}, {"dL_dX12": "X11*dL_dO12 + X12*dL_dO11"}, (), "formulas.dL_dX12", "x_f_swapped",
                            Fraction(1, 4), "swapped"),
    "indices_transposed_O": ({"O": [[1, -10], [2, 8]]}, {}, (), "O", "indices_transposed", Fraction(1, 2),
                             "transposed"),
    "indices_transposed_dL_dF12": ({}, {"dL_dF12": "X21*dL_dO11 + X22*dL_dO21 + X31*dL_dO12 + X32*dL_dO22"}, (),
                                   "formulas.dL_dF12", "indices_transposed", Fraction(1, 2), "transposed"),
    "sign_wrong": ({}, {"dL_dF11": "-(X11*dL_dO11 + X12*dL_dO12 + X21*dL_dO21 + X22*dL_dO22)"}, (),
                   "formulas.dL_dF11", "sign_wrong", Fraction(1, 2), "sign"),
    "sign_wrong_substituted": ({}, {"dL_dX12": "-(F11 + F12)/4"}, (), "formulas.dL_dX12", "sign_wrong",
                               Fraction(1, 2), "sign"),
    "term_missing": ({}, {"dL_dF12": "X12*dL_dO11 + X13*dL_dO12 + X22*dL_dO21"}, (), "formulas.dL_dF12",
                     "term_missing", Fraction(1, 4), "X23*dL_dO22"),
    "term_missing_dL_dX22": ({}, {"dL_dX22": "dL_dO11*F22 + dL_dO12*F21 + dL_dO21*F12"}, (), "formulas.dL_dX22",
                             "term_missing", Fraction(1, 4), "F11*dL_dO22"),
    "term_extra": ({}, {"dL_dF21": "X21*dL_dO11 + X22*dL_dO12 + X31*dL_dO21 + X32*dL_dO22 + X33*dL_dO22"}, (),
                   "formulas.dL_dF21", "term_extra", Fraction(1, 4), "X33*dL_dO22"),
    "mislabelled": ({}, {"dL_dX13": "F11*dL_dO11"}, (), "formulas.dL_dX13", "mislabelled", Fraction(1, 4),
                    "formulas.dL_dX11"),
    "mislabelled_dL_dF": ({}, {"dL_dF12": "X11*dL_dO11 + X12*dL_dO12 + X21*dL_dO21 + X22*dL_dO22"}, (),
                          "formulas.dL_dF12", "mislabelled", Fraction(1, 4), "dL_dF11"),
    "operator_missing": ({}, {"dL_dX32": "dL_dO21*F22 dL_dO22*F21"}, (), "formulas.dL_dX32", "operator_missing",
                         Fraction(0), "garbled"),
}


@pytest.mark.parametrize("case", sorted(DIAGNOSES))
def test_diagnosis(tmp_path, problems, case) -> None:
    """Each known mistake is named on its part, with the spec's credit and the spec's message (placeholders filled)."""
    values, formulas, drop, part_id, diagnosis, credit, needle = DIAGNOSES[case]
    result = grade_text(tmp_path, problems, q4_table(values, formulas, drop))
    graded = part(result, part_id)
    assert graded.diagnosis == diagnosis
    assert spec_of(problems).mistakes[diagnosis].credit == credit
    assert graded.score == credit * points(problems, part_id)
    assert graded.status is (Status.PARTIAL if credit else Status.WRONG)
    message = spec_of(problems).mistakes[diagnosis].message
    if "{" not in message.en:
        assert graded.feedback[0] == message
    else:
        prefix = message.en.split("{")[0]
        assert graded.feedback[0].en.startswith(prefix) and "{" not in graded.feedback[0].en
        assert "{" not in graded.feedback[0].fa and graded.feedback[0].fa
    assert needle in feedback_en(graded)


@pytest.mark.parametrize("name, text", [
    # dL/dX22 without rotating F (the classic mistake): right only because every dL/dO_kl happens to be 1/4
    ("dL_dX22", "dL_dO11*F11 + dL_dO12*F12 + dL_dO21*F21 + dL_dO22*F22"),
    # dL/dF11 with X's indices transposed: X12 paired with dL/dO21
    ("dL_dF11", "X11*dL_dO11 + X12*dL_dO21 + X21*dL_dO12 + X22*dL_dO22"),
    # dL/dX12 with dL/dO's indices transposed
    ("dL_dX12", "F11*dL_dO21 + F12*dL_dO11"),
])
def test_symbolically_wrong_chain_rule_is_not_full_credit(tmp_path, problems, name, text) -> None:
    """A formula written in dL/dO symbols that pairs the wrong gradient with a weight is not graded correct."""
    graded = part(grade_text(tmp_path, problems, q4_table(formulas={name: text})), f"formulas.{name}")
    assert graded.status is not Status.CORRECT
    assert graded.score < graded.max_score


def test_mistake_costs_only_its_part(tmp_path, problems) -> None:
    """A wrong formula (sign) costs only that part; every other Q4 part keeps its points."""
    result = grade_text(tmp_path, problems, q4_table(formulas={"dL_dX31": "-F21*dL_dO21"}))
    q4 = problem_result(result, "q4")
    assert q4.score == MAX_Q4 - Fraction(1, 4)
    assert all(p.score == p.max_score for p in q4.parts if p.part != "formulas.dL_dX31")


def test_gap_scale_forgotten_carries_into_dl_df(tmp_path, problems) -> None:
    """dL/dO = 1 everywhere is gap_scale_forgotten; dL/dF = 4× right, consistent with it, gets carried-forward credit."""
    result = grade_text(tmp_path, problems, q4_table({"dL_dO": [[1, 1], [1, 1]], "dL_dF": [[10, 7], [5, -4]],
                                                      "dL_dX": [[2, 2, 0], [-1, 0, 1], [-3, -2, 1]]}))
    assert part(result, "dL_dO").diagnosis == "gap_scale_forgotten"
    assert part(result, "dL_dO").score == Fraction(1, 2)
    for part_id in ("dL_dF", "dL_dX"):
        graded = part(result, part_id)
        assert graded.diagnosis == "carried_forward" and graded.score == graded.max_score
        assert "earlier" in feedback_en(graded)


def test_unexplained_wrong_formula_gets_hint(tmp_path, problems) -> None:
    """A wrong formula nothing explains scores zero with the part's hint."""
    graded = part(grade_text(tmp_path, problems, q4_table(formulas={"dL_dF22": "X11 + X33"})), "formulas.dL_dF22")
    assert (graded.status, graded.score, graded.diagnosis) == (Status.WRONG, 0, None)
    assert "Sum dL/dO_kl" in feedback_en(graded)


# --- unreadable values ---------------------------------------------------------------------------

@pytest.mark.parametrize("key, value, expected", [
    ("dL_dF", [[2.5, 1.75, 0], [1.25, -1, 0]], "2×2"),
    ("dL_dF", [[2.5, 1.75]], "2×2"),
    ("dL_dO", [[0.25, 0.25, 0.25, 0.25]], "2×2"),
    ("O", [[1, 2, -10, 8]], "2×2"),
    ("dL_dX", [[0.5, 0.5], [-0.25, 0]], "3×3"),
])
def test_wrong_matrix_shape_is_invalid(tmp_path, problems, key, value, expected) -> None:
    """A matrix of the wrong shape is invalid, the message gives the expected shape, and the rest is still graded."""
    result = grade_text(tmp_path, problems, q4_table({key: value}))
    graded = part(result, key)
    assert (graded.status, graded.score) == (Status.INVALID, 0)
    assert expected in feedback_en(graded) and expected in graded.feedback[0].fa
    assert result.status is SubmissionStatus.PARTIAL
    assert problem_result(result, "q4").score == MAX_Q4 - points(problems, key)


def test_hostile_formula_is_invalid_and_not_run(tmp_path, problems) -> None:
    """A code payload as a formula is invalid (not executed: no sentinel file) and the rest is still graded."""
    target = tmp_path / "pwned"
    payload = f"__import__('pathlib').Path('{target}').touch()"
    result = grade_text(tmp_path / "class", problems, q4_table(formulas={"dL_dF11": payload, "dL_dF12": "9**9**9**9"}))
    assert part(result, "formulas.dL_dF11").status is Status.INVALID
    assert part(result, "formulas.dL_dF12").status is Status.INVALID
    assert "dL_dF11" in feedback_en(part(result, "formulas.dL_dF11"))
    assert not target.exists()
    assert problem_result(result, "q4").score == MAX_Q4 - 1


def test_unknown_symbol_in_formula_is_invalid_with_hint(tmp_path, problems) -> None:
    """A formula with an unknown symbol is invalid and the feedback suggests the closest one."""
    graded = part(grade_text(tmp_path, problems, q4_table(formulas={"dL_dX11": "Y11*dL_dO11"})), "formulas.dL_dX11")
    assert graded.status is Status.INVALID
    assert "did you mean X11" in feedback_en(graded)


# --- tolerance -----------------------------------------------------------------------------------

@pytest.mark.parametrize("key, value", [
    ("dL_dO", [[0.2501, 0.25], [0.25, 0.2499]]),
    ("dL_dF", [[2.5009, 1.7501], [1.25, -0.9991]]),
    ("dL_dX", [[0.5, 0.5, 0.0005], [-0.25, 0, 0.25], [-0.75, -0.5, 0.2501]]),
    ("y", 0.2509),
    ("O", [[1.0004, 2], [-10, 8]]),
])
def test_numbers_within_abs_tol_are_correct(tmp_path, problems, key, value) -> None:
    """Entries within abs_tol = 0.001 of the exact value are correct."""
    graded = part(grade_text(tmp_path, problems, q4_table({key: value})), key)
    assert graded.status is Status.CORRECT and graded.score == graded.max_score


@pytest.mark.parametrize("key, value", [
    ("dL_dO", [[0.252, 0.25], [0.25, 0.25]]),
    ("dL_dF", [[2.5, 1.75], [1.25, -1.002]]),
    ("dL_dX", [[0.5, 0.5, 0.0015], [-0.25, 0, 0.25], [-0.75, -0.5, 0.25]]),
    ("y", 0.2511),
    ("y", 0.3333),
])
def test_numbers_outside_abs_tol_are_wrong(tmp_path, problems, key, value) -> None:
    """Entries more than 0.001 from the exact value are wrong."""
    graded = part(grade_text(tmp_path, problems, q4_table({key: value})), key)
    assert graded.status is Status.WRONG and graded.score == 0


# --- error carried forward -----------------------------------------------------------------------

def test_y_from_own_wrong_o_is_carried_forward(tmp_path, problems) -> None:
    """A wrong O with y equal to the mean of that O: O is wrong, y gets full credit with diagnosis carried_forward."""
    result = grade_text(tmp_path, problems, q4_table({"O": [[1, 2], [-10, 12]], "y": 1.25}))
    assert part(result, "O").status is Status.WRONG
    graded = part(result, "y")
    assert graded.diagnosis == "carried_forward"
    assert graded.score == graded.max_score * spec_of(problems).carried_forward_credit
    assert "earlier" in feedback_en(graded)


def test_y_inconsistent_with_own_o_is_wrong(tmp_path, problems) -> None:
    """A wrong O with a y that is neither the right value nor the mean of that O is wrong."""
    result = grade_text(tmp_path, problems, q4_table({"O": [[1, 2], [-10, 12]], "y": 2}))
    graded = part(result, "y")
    assert (graded.status, graded.score, graded.diagnosis) == (Status.WRONG, 0, None)


def test_right_y_with_wrong_o_is_correct(tmp_path, problems) -> None:
    """A right y stays correct even when O is wrong (no carried-forward needed)."""
    result = grade_text(tmp_path, problems, q4_table({"O": [[1, 2], [-10, 12]]}))
    graded = part(result, "y")
    assert graded.status is Status.CORRECT and graded.diagnosis is None
