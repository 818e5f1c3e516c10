"""Per-student variants: who gets which numbers, and that every variant grades exactly."""

from __future__ import annotations

import copy
import random
import re
from fractions import Fraction
from typing import Any

import numpy as np
import pytest

from grader.answer_key import answer_key
from grader.course import SECRET_ENV, load_course
from grader.engine import grade_problem
from grader.errors import GraderError, SpecError
from grader.problems import Problem
from grader.results import Status
from grader.spec import AnswerKind, Check
from grader.statement import render
from grader.variants import Variants, draw_parameters, mistakes_show, normalize_id

SECRET = "test-secret-1"
ASSIGNMENT = "Homework 7"
VARIED = ("q2b", "q3", "q4")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)((?:\[\d+\])*)(:fa)?\}")
_PERSIAN = str.maketrans("0123456789-", "۰۱۲۳۴۵۶۷۸۹−")


def random_ids(count: int, seed: int) -> list[str]:
    """``count`` distinct student ids from a seeded generator (the same ones on every run)."""
    rng = random.Random(seed)
    ids: list[str] = []
    while len(ids) < count:
        kind = rng.randrange(3)
        if kind == 0:
            sid = str(rng.randrange(10**8, 10**9))
        elif kind == 1:
            sid = "s" + "".join(rng.choice("0123456789") for _ in range(rng.randint(3, 7)))
        else:
            sid = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz._-0123456789") for _ in range(rng.randint(4, 12)))
        if sid not in ids:
            ids.append(sid)
    return ids


@pytest.fixture(scope="module")
def variants(problems) -> Variants:
    """The repository's problems, varied with a fixed test secret."""
    return Variants(problems, SECRET, ASSIGNMENT)


def by_id(problems: tuple[Problem, ...], problem_id: str) -> Problem:
    """The problem with this id."""
    return next(p for p in problems if p.id == problem_id)


def varied_parameters(pool: Variants, student_id: str) -> dict[str, Any]:
    """The parameters of the problems that vary (q2b, q3, q4), by problem id."""
    parameters = pool.parameters(student_id)
    return {pid: parameters[pid] for pid in VARIED}


# --- who gets which numbers -------------------------------------------------------------------------------


def test_the_repository_varies_q2b_q3_q4(problems) -> None:
    """Exactly q2b, q3 and q4 have a [variants] table (the rest of this file relies on it)."""
    assert sorted(p.id for p in problems if p.spec.variants) == list(VARIED)


def test_different_students_get_different_numbers(variants) -> None:
    """Two different ids get different Q3 and Q4 parameters."""
    a, b = variants.parameters("s1001"), variants.parameters("s1002")
    assert a["q3"] != b["q3"]
    assert a["q4"]["X"] != b["q4"]["X"] or a["q4"]["F"] != b["q4"]["F"]


def test_many_students_mostly_get_their_own_numbers(variants) -> None:
    """Over 40 ids the Q4 matrices are all different and Q3 networks mostly so (numbers are really drawn per id)."""
    ids = random_ids(40, seed=11)
    q4 = {(str(variants.parameters(i)["q4"]["X"]), str(variants.parameters(i)["q4"]["F"])) for i in ids}
    q3 = {str(variants.parameters(i)["q3"]) for i in ids}
    assert len(q4) == 40
    assert len(q3) >= 35


def test_same_student_always_gets_the_same_numbers(problems, variants) -> None:
    """The same id gets the same numbers again, also from a fresh Variants object."""
    first = variants.parameters("s1001")
    assert variants.parameters("s1001") == first
    assert Variants(problems, SECRET, ASSIGNMENT).parameters("s1001") == first
    fresh = Variants(problems, SECRET, ASSIGNMENT).for_student("s1001")
    assert {p.id: dict(p.spec.parameters) for p in fresh if p.id in VARIED} == varied_parameters(variants, "s1001")


def test_changing_the_secret_changes_the_numbers(problems, variants) -> None:
    """Another secret draws other Q3 and Q4 numbers for the same id."""
    other = Variants(problems, SECRET + "x", ASSIGNMENT)
    assert other.parameters("s1001")["q3"] != variants.parameters("s1001")["q3"]
    assert other.parameters("s1001")["q4"] != variants.parameters("s1001")["q4"]


def test_changing_the_assignment_changes_the_numbers(problems, variants) -> None:
    """Another assignment name draws other Q3 and Q4 numbers for the same id and secret."""
    other = Variants(problems, SECRET, "Homework 8")
    assert other.parameters("s1001")["q3"] != variants.parameters("s1001")["q3"]
    assert other.parameters("s1001")["q4"] != variants.parameters("s1001")["q4"]


def test_ids_differing_by_case_and_spaces_get_the_same_numbers(variants) -> None:
    """`S1001 `, ` s1001` and the full-width `Ｓ１００１` are the id `s1001`, with its numbers."""
    assert normalize_id("  S1001 ") == normalize_id("Ｓ１００１") == "s1001"
    expected = varied_parameters(variants, "s1001")
    for spelling in ("S1001", "  s1001 ", " S1001\t", "Ｓ１００１"):
        assert varied_parameters(variants, spelling) == expected, spelling


def test_problems_without_variants_keep_the_homework_numbers(problems) -> None:
    """draw_parameters gives q1 and q2a their own homework parameters whatever the id."""
    for problem in problems:
        if not problem.spec.variants:
            assert draw_parameters(problem, SECRET, ASSIGNMENT, "s1001") == dict(problem.spec.parameters)


# --- every variant grades exactly -------------------------------------------------------------------------


def _get(table: Any, path: tuple) -> Any:
    node = table
    for segment in path:
        node = node[segment]
    return node


def _set(table: Any, path: tuple, value: Any) -> None:
    _get(table, path[:-1])[path[-1]] = value


def _far(entry: Any) -> Any:
    """An entry moved far from its value (10007 added), kept in a form the answer format accepts."""
    moved = Fraction(str(entry)) + 10007
    return moved.numerator if moved.denominator == 1 else f"{moved.numerator}/{moved.denominator}"


def _change_first_entry(value: Any) -> Any:
    """``value`` with only its first entry moved far off."""
    if isinstance(value, list):
        return [_change_first_entry(value[0]), *copy.deepcopy(value[1:])]
    return _far(value)


def changed_answer(kind: AnswerKind, value: Any) -> Any:
    """One entry of a key value changed: the value itself for a number, a flipped boolean, a scaled formula."""
    if kind is AnswerKind.BOOLEAN:
        return not value
    if kind is AnswerKind.FORMULA:
        return f"10007*({value})"
    return _change_first_entry(value)


def compared_parts(problem: Problem) -> list:
    """The parts the engine compares with the solver's answer (not essays, not solver-judged)."""
    return [part for part in problem.spec.parts if part.check is Check.COMPARE and part.kind is not AnswerKind.TEXT]


def test_every_variant_key_scores_full_and_one_changed_entry_loses_exactly_its_points(variants) -> None:
    """For 200 random ids: each varied problem's own key scores full marks, and one entry changed in any
    compared part makes exactly that part wrong, losing exactly its points."""
    failures: list[str] = []
    checked = 0
    for student_id in random_ids(200, seed=2024):
        own = variants.for_student(student_id)
        key = answer_key(own)
        for problem in own:
            if problem.id not in VARIED:
                continue
            full = problem.spec.max_score
            result, _ = grade_problem(problem, copy.deepcopy(key[problem.id]))
            if result.score != full:
                wrong = [(p.part, str(p.status)) for p in result.parts if p.status is not Status.CORRECT]
                failures.append(f"{student_id} {problem.id}: key scores {result.score}/{full}, {wrong}")
            for part in compared_parts(problem):
                table = copy.deepcopy(key[problem.id])
                _set(table, part.answer, changed_answer(part.kind, _get(table, part.answer)))
                result, _ = grade_problem(problem, table)
                statuses = {p.part: p.status for p in result.parts}
                checked += 1
                if full - result.score != part.points or statuses[part.id] is not Status.WRONG:
                    failures.append(f"{student_id} {problem.id}.{part.id} changed: lost {full - result.score} "
                                    f"(expected {part.points}), status {statuses[part.id]}; "
                                    f"parameters {dict(problem.spec.parameters)}")
                elif any(s is not Status.CORRECT for pid, s in statuses.items() if pid != part.id):
                    failures.append(f"{student_id} {problem.id}.{part.id} changed: other parts not correct: "
                                    f"{statuses}")
    assert checked >= 200 * 20  # q2b has 1 compared part, q3 6, q4 14
    assert not failures, "\n".join(failures[:20]) + f"\n({len(failures)} failures)"


def test_every_variant_passes_the_automatic_question_tests(variants) -> None:
    """For 30 random ids the selftest's automatic cases (key, each mistake, one entry changed) all pass."""
    from grader.selftest import automatic_tests, run_test

    failures = []
    for student_id in random_ids(30, seed=7):
        for problem in variants.for_student(student_id):
            if problem.id in VARIED:
                for case in automatic_tests(problem):
                    failures += [f"{student_id} {problem.id} {case.name}: {r}" for r in run_test(problem, case)]
    assert not failures, "\n".join(failures[:20])


# --- the solvers agree with an independent computation ------------------------------------------------------

_CONV = re.compile(r"^\s*Conv\(\s*(\d+)\s*,\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)\s*,\s*(\d+)\s*\)\s*$")
_POOL = re.compile(r"^\s*Max-Pool\(\s*(\d+)\s*\*\s*(\d+)\s*\)\s*$")


def independent_q3(input_shape: list[int], layers: list[str]) -> list[tuple[tuple[int, int, int], int]]:
    """Each layer's (output shape, parameters), computed with numpy windows: no padding, channels last,
    a convolution's (k·k·C_in + 1)·C_out parameters, max pooling with stride = pool size and no parameters."""
    h, w, c = input_shape
    results = []
    for text in layers:
        conv, pool = _CONV.match(text), _POOL.match(text)
        if conv:
            filters, kh, kw, stride = map(int, conv.groups())
            sh = sw = stride
            params = (kh * kw * c + 1) * filters
            channels = filters
        else:
            assert pool, f"unexpected layer {text!r}"
            kh, kw = map(int, pool.groups())
            sh, sw = kh, kw
            params = 0
            channels = c
        windows = np.lib.stride_tricks.sliding_window_view(np.zeros((h, w)), (kh, kw))[::sh, ::sw]
        h, w = windows.shape[:2]
        results.append(((h, w, channels), params))
        c = channels
    return results


def _floor_formula(n: int, k: int, s: int) -> int:
    return (n - k) // s + 1


def _xcorr(a: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Cross-correlation, stride 1, no padding, on object arrays of Fractions (exact)."""
    rows, cols = a.shape[0] - k.shape[0] + 1, a.shape[1] - k.shape[1] + 1
    out = np.empty((rows, cols), dtype=object)
    for i in range(rows):
        for j in range(cols):
            out[i, j] = (a[i:i + k.shape[0], j:j + k.shape[1]] * k).sum()
    return out


def independent_q4(x: list[list[int]], f: list[list[int]]) -> dict[str, Any]:
    """O, y, dL_dO, dL_dF, dL_dX of the homework's network, exactly, from the textbook formulas."""
    X = np.array([[Fraction(v) for v in row] for row in x], dtype=object)
    F = np.array([[Fraction(v) for v in row] for row in f], dtype=object)
    O = _xcorr(X, F)
    y = O.sum() / O.size
    G = np.full(O.shape, Fraction(1, O.size), dtype=object)
    dF = _xcorr(X, G)
    kh, kw = F.shape
    padded = np.full((G.shape[0] + 2 * (kh - 1), G.shape[1] + 2 * (kw - 1)), Fraction(0), dtype=object)
    padded[kh - 1:kh - 1 + G.shape[0], kw - 1:kw - 1 + G.shape[1]] = G
    dX = _xcorr(padded, np.rot90(F, 2))  # full convolution of dL_dO with F rotated 180°
    return {"O": O, "y": y, "dL_dO": G, "dL_dF": dF, "dL_dX": dX}


def _matrix(value: Any) -> np.ndarray:
    return np.array([[Fraction(v) for v in row] for row in value], dtype=object)


def test_q3_solver_agrees_with_an_independent_computation(problems, variants) -> None:
    """On the homework and 40 random variants, Q3's shapes and parameter counts equal the numpy computation."""
    q3 = by_id(problems, "q3")
    cases = [dict(q3.spec.parameters)] + [variants.parameters(i)["q3"] for i in random_ids(40, seed=3)]
    for parameters in cases:
        own = q3.with_parameters(parameters)
        expected = independent_q3(list(parameters["input_shape"]), list(parameters["layers"]))
        assert len(expected) == len(parameters["layers"])
        for index, (shape, params) in enumerate(expected):
            assert tuple(own.expected[f"layers[{index}].output_shape"]) == shape, (parameters, index)
            assert own.expected[f"layers[{index}].params"] == params, (parameters, index)
        # and the floor formula, side by side
        h = parameters["input_shape"][0]
        for index, text in enumerate(parameters["layers"]):
            conv, pool = _CONV.match(text), _POOL.match(text)
            k, s = (int(conv[2]), int(conv[4])) if conv else (int(pool[1]), int(pool[1]))
            h = _floor_formula(h, k, s)
            assert own.expected[f"layers[{index}].output_shape"][0] == h
    assert independent_q3([128, 128, 3], ["Conv(64, (5,5), 2)", "Conv(64, (3,3), 2)", "Max-Pool(3*3)"]) == [
        ((62, 62, 64), 4864), ((30, 30, 64), 36928), ((10, 10, 64), 0)]


def test_q4_solver_agrees_with_an_independent_computation(problems, variants) -> None:
    """On the homework and 40 random variants, Q4's O, y and gradients equal the exact textbook computation."""
    q4 = by_id(problems, "q4")
    cases = [dict(q4.spec.parameters)] + [variants.parameters(i)["q4"] for i in random_ids(40, seed=4)]
    assert len({str(c["X"]) + str(c["F"]) for c in cases}) == len(cases)
    for parameters in cases:
        own = q4.with_parameters(parameters)
        reference = independent_q4(parameters["X"], parameters["F"])
        assert own.expected["y"] == reference["y"], parameters
        for name in ("O", "dL_dO", "dL_dF", "dL_dX"):
            got = _matrix(own.expected[name])
            assert got.shape == reference[name].shape and (got == reference[name]).all(), (name, parameters)


def test_q3_and_q4_agree_with_torch(problems, variants) -> None:
    """When PyTorch is installed: Q3 matches nn.Conv2d/nn.MaxPool2d shapes and parameter counts, Q4 autograd."""
    torch = pytest.importorskip("torch")
    q3, q4 = by_id(problems, "q3"), by_id(problems, "q4")
    ids = random_ids(30, seed=5)
    with torch.no_grad():
        for parameters in [dict(q3.spec.parameters)] + [variants.parameters(i)["q3"] for i in ids]:
            own = q3.with_parameters(parameters)
            h, w, c = parameters["input_shape"]
            x = torch.zeros(1, c, h, w)
            for index, text in enumerate(parameters["layers"]):
                conv, pool = _CONV.match(text), _POOL.match(text)
                if conv:
                    layer = torch.nn.Conv2d(x.shape[1], int(conv[1]), (int(conv[2]), int(conv[3])),
                                            stride=int(conv[4]))
                else:
                    layer = torch.nn.MaxPool2d((int(pool[1]), int(pool[2])))
                x = layer(x)
                _, channels, height, width = x.shape
                assert tuple(own.expected[f"layers[{index}].output_shape"]) == (height, width, channels)
                assert own.expected[f"layers[{index}].params"] == sum(p.numel() for p in layer.parameters())
    for parameters in [dict(q4.spec.parameters)] + [variants.parameters(i)["q4"] for i in ids]:
        own = q4.with_parameters(parameters)
        X = torch.tensor(parameters["X"], dtype=torch.float64, requires_grad=True)
        F = torch.tensor(parameters["F"], dtype=torch.float64, requires_grad=True)
        O = torch.nn.functional.conv2d(X[None, None], F[None, None])
        O.retain_grad()
        y = O.mean()
        y.backward()
        as_float = lambda m: np.array([[float(v) for v in row] for row in m])  # noqa: E731
        assert np.allclose(as_float(own.expected["O"]), O.detach().numpy()[0, 0])
        assert np.isclose(float(own.expected["y"]), y.item())
        assert np.allclose(as_float(own.expected["dL_dO"]), O.grad.numpy()[0, 0])
        assert np.allclose(as_float(own.expected["dL_dF"]), F.grad.numpy())
        assert np.allclose(as_float(own.expected["dL_dX"]), X.grad.numpy())


# --- mistakes and statements in every variant ----------------------------------------------------------------


def test_every_variant_keeps_mistakes_distinguishable_and_renders_its_numbers(variants) -> None:
    """For 60 random ids, each varied problem's mistakes all show (mistakes_show), and its statements, in
    English and Persian, carry the student's own numbers with no placeholder of a parameter left."""
    for student_id in random_ids(60, seed=6):
        for problem in variants.for_student(student_id):
            if problem.id not in VARIED:
                continue
            spec, parameters = problem.spec, problem.spec.parameters
            assert mistakes_show(problem), (student_id, problem.id, dict(parameters))
            en, fa = render(spec.statement.en, parameters), render(spec.statement.fa, parameters)
            for text in (en, fa):
                left = [m[0] for m in _PLACEHOLDER.finditer(text) if m[1] in parameters]
                assert not left, (student_id, problem.id, left)
                assert "{input_shape" not in text and "{X}" not in text and "{pool_size" not in text
            if problem.id == "q3":
                n = parameters["input_shape"][0]
                assert f"{n}×{n}" in en
                assert f"{n}".translate(_PERSIAN) in fa
                assert all(layer in en and layer in fa for layer in parameters["layers"])
            elif problem.id == "q4":
                for text in (en, fa):
                    assert f"X = {parameters['X']}" in text.replace("\n", " ")
                    assert str(parameters["F"]) in text
            else:
                a, b = parameters["pool_size"]
                assert f"{a}×{b}" in en
                assert f"{a}".translate(_PERSIAN) + "×" + f"{b}".translate(_PERSIAN) in fa


# --- course.toml ---------------------------------------------------------------------------------------------


def write_course(tmp_path, text: str):
    """A course.toml with ``text``."""
    path = tmp_path / "course.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_variants_on_without_secret_raise(tmp_path, monkeypatch) -> None:
    """Variants on with no secret anywhere: variant_secret raises GraderError naming GRADER_SECRET."""
    monkeypatch.delenv(SECRET_ENV, raising=False)
    course = load_course(write_course(tmp_path, "[variants]\nenabled = true\n"))
    assert course.variants
    with pytest.raises(GraderError, match=SECRET_ENV):
        course.variant_secret


def test_course_secret_is_read(tmp_path, monkeypatch) -> None:
    """[variants] secret and enabled are read from course.toml, and the secret is kept out of repr."""
    monkeypatch.delenv(SECRET_ENV, raising=False)
    course = load_course(write_course(tmp_path, '[course]\nassignment = "HW9"\n'
                                                '[variants]\nenabled = true\nsecret = "from-file"\n'))
    assert (course.variants, course.variant_secret, course.assignment) == (True, "from-file", "HW9")
    assert "from-file" not in repr(course)


def test_secret_environment_variable_overrides(tmp_path, monkeypatch) -> None:
    """GRADER_SECRET overrides course.toml's secret, and stands in for a missing one."""
    monkeypatch.setenv(SECRET_ENV, "from-env")
    with_secret = load_course(write_course(tmp_path, '[variants]\nenabled = true\nsecret = "from-file"\n'))
    assert with_secret.variant_secret == "from-env"
    without = load_course(write_course(tmp_path, "[variants]\nenabled = true\n"))
    assert without.variant_secret == "from-env"


def test_variants_default_off(tmp_path) -> None:
    """Without a [variants] table, or without a file, variants are off."""
    assert not load_course(write_course(tmp_path, '[course]\nname = "X"\n')).variants
    assert not load_course(None).variants


@pytest.mark.parametrize("text, key", [
    ('[variants]\nenabled = "yes"\n', "variants.enabled"),
    ("[variants]\nenabled = 1\n", "variants.enabled"),
    ("[variants]\nenabled = true\nsecret = 5\n", "variants.secret"),
    ("variants = 5\n", "variants"),
])
def test_bad_variant_settings_name_the_key(tmp_path, text: str, key: str) -> None:
    """A [variants] setting of the wrong type raises SpecError naming the file and the key."""
    path = write_course(tmp_path, text)
    with pytest.raises(SpecError) as raised:
        load_course(path)
    assert raised.value.key == key
    assert f"key '{key}'" in str(raised.value) and str(path) in str(raised.value)
