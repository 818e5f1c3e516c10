"""Grading Q3 end to end: partial credit per layer, diagnosed mistakes, error carried forward."""

from __future__ import annotations

from fractions import Fraction

import pytest

from grader.results import Status, SubmissionStatus
from tests.conftest import SUBMISSIONS
from tests.helpers import grade_path, grade_text, part, problem_result, q3_layers

KEY = [("[62, 62, 64]", 4864), ("[30, 30, 64]", 36928), ("[10, 10, 64]", 0)]


def with_layer(index: int, shape: str | None = None, params: object | None = None) -> str:
    """The key's Q3 table with one layer's shape and/or params replaced."""
    layers = list(KEY)
    old_shape, old_params = layers[index]
    layers[index] = (shape or old_shape, old_params if params is None else params)
    return q3_layers(*layers)


def test_key_scores_full_marks(tmp_path, problems) -> None:
    """The key's answers get every Q3 point with every part correct."""
    q3 = problem_result(grade_text(tmp_path, problems, q3_layers(*KEY)), "q3")
    assert q3.score == 6
    assert all(p.status is Status.CORRECT for p in q3.parts)


@pytest.mark.parametrize("index, shape, params, diagnosed_part, diagnosis, credit", [
    (0, None, 4800, "layer1.params", "no_bias", Fraction(1, 2)),
    (0, "[63, 63, 64]", None, "layer1.output_shape", "ceil_mode", Fraction(1, 2)),
    (0, "[64, 64, 64]", None, "layer1.output_shape", "same_padding", Fraction(1, 4)),
    (0, "[64, 62, 62]", None, "layer1.output_shape", "channels_first", Fraction(1, 2)),
    (0, None, 1664, "layer1.params", "input_channels_one", Fraction(1, 2)),
    (1, None, 640, "layer2.params", "input_depth_ignored", Fraction(1, 4)),
    (0, "[124, 124, 64]", None, "layer1.output_shape", "stride_ignored", Fraction(1, 4)),
    (2, "[28, 28, 64]", None, "layer3.output_shape", "pool_stride_one", Fraction(1, 4)),
])
def test_each_mistake_is_named_and_costs_only_its_part(tmp_path, problems, index, shape, params,
                                                       diagnosed_part, diagnosis, credit) -> None:
    """A known mistake gets the spec's credit on its part, named in feedback; other parts stay full."""
    result = grade_text(tmp_path, problems, with_layer(index, shape, params))
    graded = part(result, diagnosed_part)
    assert (graded.diagnosis, graded.score, graded.status) == (diagnosis, credit, Status.PARTIAL)
    spec = next(p for p in problems if p.id == "q3").spec
    assert graded.feedback[0] == spec.mistakes[diagnosis].message
    assert all(p.score == p.max_score for p in problem_result(result, "q3").parts if p.part != diagnosed_part)


def test_error_carried_forward_gets_full_credit(tmp_path, problems) -> None:
    """Layers computed correctly from a wrong earlier shape get full credit, and feedback says so."""
    result = grade_text(tmp_path, problems, q3_layers(("[60, 60, 64]", 4864), ("[29, 29, 64]", 36928),
                                                      ("[9, 9, 64]", 0)))
    assert part(result, "layer1.output_shape").status is Status.WRONG
    for later in ("layer2.output_shape", "layer3.output_shape"):
        graded = part(result, later)
        assert (graded.status, graded.score, graded.diagnosis) == (Status.CORRECT, 1, "carried_forward")
        assert "earlier" in graded.feedback[0].en
    assert problem_result(result, "q3").score == 5


def test_mistake_carried_forward_is_recognised(tmp_path, problems) -> None:
    """A pooling-stride mistake made on a wrong earlier shape is still named."""
    result = grade_text(tmp_path, problems, q3_layers(("[60, 60, 64]", 4864), ("[29, 29, 64]", 36928),
                                                      ("[27, 27, 64]", 0)))
    graded = part(result, "layer3.output_shape")
    assert graded.diagnosis == "pool_stride_one" and graded.status is Status.PARTIAL
    assert "earlier answer" in graded.feedback[0].en


def test_unexplained_wrong_answer_gets_hint(tmp_path, problems) -> None:
    """A wrong value no mistake explains scores zero with the part's hint."""
    result = grade_text(tmp_path, problems, with_layer(1, params=12345))
    graded = part(result, "layer2.params")
    assert (graded.status, graded.score) == (Status.WRONG, 0)
    assert "C_in" in " ".join(m.en for m in graded.feedback)


def test_missing_invalid_and_unknown_keys(tmp_path, problems) -> None:
    """A missing key is `missing`, an unreadable value `invalid`, an unknown key a warning with a hint."""
    text = ('[q3]\nlayers = [\n  { output_shape = [62, 62, 64], parms = 4864 },\n'
            '  { output_shape = "thirty", params = 36928 },\n  { output_shape = [10, 10, 64], params = 0 },\n]\n')
    result = grade_text(tmp_path, problems, text)
    assert part(result, "layer1.params").status is Status.MISSING
    assert part(result, "layer2.output_shape").status is Status.INVALID
    assert "62, 62, 64" in part(result, "layer2.output_shape").feedback[0].en
    assert part(result, "layer3.params").status is Status.CORRECT
    assert result.status is SubmissionStatus.PARTIAL
    assert any("did you mean params" in w.en for w in result.warnings)


def test_negative_parameter_count_is_invalid(tmp_path, problems) -> None:
    """`params = -3` is `invalid` with a message saying a count is 0 or more, not graded as a wrong count."""
    result = grade_text(tmp_path, problems, with_layer(0, params=-3))
    params = part(result, "layer1.params")
    assert params.status is Status.INVALID
    assert params.score == 0
    assert "at least 0" in params.feedback[0].en and "-3" in params.feedback[0].en
    assert part(result, "layer2.params").status is Status.CORRECT


def test_absent_problem_is_missing(tmp_path, problems) -> None:
    """A submission without [q3] gets every Q3 part `missing` and is still graded."""
    result = grade_text(tmp_path, problems, '[student]\nid = "s001"\n')
    assert {p.status for p in problem_result(result, "q3").parts} == {Status.MISSING}
    assert result.status is SubmissionStatus.GRADED


def test_problem_that_is_not_a_table_is_invalid(tmp_path, problems) -> None:
    """`q3 = 5` makes every Q3 part invalid with a message saying a table is expected."""
    q3 = problem_result(grade_text(tmp_path, problems, "q3 = 5\n"), "q3")
    assert {p.status for p in q3.parts} == {Status.INVALID}
    assert "table" in q3.parts[0].feedback[0].en


def test_extra_layers_and_unknown_problems_warn(tmp_path, problems) -> None:
    """Extra layers and tables no problem grades are warnings with a close match."""
    text = q3_layers(*KEY, ("[1, 1, 1]", 0)) + '[q_3]\nx = 1\n'
    result = grade_text(tmp_path, problems, text)
    texts = [w.en for w in result.warnings]
    assert any("4 entries" in t for t in texts)
    assert any("did you mean [q3]" in t for t in texts)
    assert result.ungraded_tables == ("q_3",)


def test_student_id_mismatch_is_reported(tmp_path, problems) -> None:
    """[student].id different from the folder name is a warning for that submission only."""
    result = grade_text(tmp_path, problems, '[student]\nid = "someone-else"\n' + q3_layers(*KEY))
    assert problem_result(result, "q3").score == 6
    assert any("someone-else" in w.en for w in result.warnings)


def test_persian_digits_and_shape_strings(tmp_path, problems) -> None:
    """Shapes and counts written with Persian digits or as "62×62×64" strings are read exactly."""
    text = q3_layers(('"۶۲×۶۲×۶۴"', '"۴۸۶۴"'), ('"30 x 30 x 64"', 36928), ("[10, 10, 64]", '"٠"'))
    assert problem_result(grade_text(tmp_path, problems, text), "q3").score == 6


def test_feedback_exists_in_persian(tmp_path, problems) -> None:
    """Every feedback message of a graded mistake has a Persian text."""
    result = grade_text(tmp_path, problems, with_layer(0, params=4800))
    assert all(m.fa and m.fa != m.en for p in problem_result(result, "q3").parts for m in p.feedback)


SAMPLE_EXPECTATIONS = {
    "answer-key": (6, {}),
    "seed-writeup": (6, {}),
    "mistake-no-bias": (5, {"layer1.params": "no_bias", "layer2.params": "no_bias"}),
    "mistake-input-channels": (Fraction(11, 2), {"layer1.params": "input_channels_one"}),
    "mistake-pool-stride": (Fraction(21, 4), {"layer3.output_shape": "pool_stride_one"}),
    "carried-forward": (5, {"layer1.output_shape": None, "layer2.output_shape": "carried_forward",
                            "layer3.output_shape": "carried_forward"}),
}


def test_samples_grade_as_documented(problems) -> None:
    """Each sample scores on Q3 as its comment says and loses points only on the affected parts."""
    results = {r.student_id: r for r in grade_path(SUBMISSIONS, problems).submissions}
    for student_id, (total, affected) in SAMPLE_EXPECTATIONS.items():
        q3 = problem_result(results[student_id], "q3")
        assert q3.score == total, student_id
        for graded in q3.parts:
            if graded.part in affected:
                assert graded.diagnosis == affected[graded.part], (student_id, graded.part)
            else:
                assert graded.status is Status.CORRECT and graded.diagnosis is None, (student_id, graded.part)
    assert results["malformed-toml"].status is SubmissionStatus.ERROR
    assert "line 9, column 33" in results["malformed-toml"].error.en
    assert results["malformed-types"].status is SubmissionStatus.PARTIAL
