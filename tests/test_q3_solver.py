"""The Q3 reference solver: shapes and parameter counts against PyTorch-derived values."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grader.errors import SolverError

ARCHITECTURES = json.loads((Path(__file__).parent / "data" / "q3_architectures.json").read_text(encoding="utf-8"))


def test_fixture_is_large_enough() -> None:
    """The solver is checked on at least 30 framework-derived architectures."""
    assert len(ARCHITECTURES) >= 30


@pytest.mark.parametrize("architecture", ARCHITECTURES, ids=[a["name"] for a in ARCHITECTURES])
def test_solver_matches_framework(q3_solver, architecture) -> None:
    """Every layer's output shape and parameter counts equal the values measured in PyTorch."""
    results = q3_solver.solve_network(tuple(architecture["input"]), architecture["layers"])
    got = [
        {"output_shape": list(r.output_shape), "params": r.params, "trainable": r.trainable,
         "non_trainable": r.non_trainable}
        for r in results
    ]
    assert got == architecture["expected"]


def test_homework_answers(q3_solver) -> None:
    """The homework's network gives 62×62×64/4864, 30×30×64/36928, 10×10×64/0."""
    answers = q3_solver.solve({"input_shape": [128, 128, 3],
                               "layers": ["Conv(64, (5,5), 2)", "Conv(64, (3,3), 2)", "Max-Pool(3*3)"]})
    assert [answers[f"layers[{i}].output_shape"] for i in range(3)] == [(62, 62, 64), (30, 30, 64), (10, 10, 64)]
    assert [answers[f"layers[{i}].params"] for i in range(3)] == [4864, 36928, 0]


@pytest.mark.parametrize("text, kind, kernel, stride", [
    ("Conv(64, (5,5), 2)", "conv", (5, 5), (2, 2)),
    ("conv2d(8, 3x5, stride=(1, 2))", "conv", (3, 5), (1, 2)),
    ("Max-Pool(3*3)", "max_pool", (3, 3), None),
    ("MaxPooling2D(pool_size=2, strides=1)", "max_pool", (2, 2), (1, 1)),
    ("Average-Pool(2×2)", "avg_pool", (2, 2), None),
])
def test_notation_is_read(q3_solver, text, kind, kernel, stride) -> None:
    """The homework's notation and its common variants are read into the same layer."""
    layer = q3_solver.parse_layer(text)
    assert (layer.kind.value, layer.kernel, layer.stride) == (kind, kernel, stride)


@pytest.mark.parametrize("text", [
    "Foo(3)", "Conv(64)", "Conv(0, 3)", "Conv(64, 3, stride=-1)", "Conv(64, 3, colour=red)",
    "Conv(64, __import__('os'))", "MaxPool(2, 2, 1, 1)", "Conv(64, 3, bias=maybe)", "Conv(64, 3",
])
def test_bad_notation_is_refused(q3_solver, text) -> None:
    """Unknown layers, missing or bad arguments raise SolverError; nothing is evaluated."""
    with pytest.raises(SolverError):
        q3_solver.parse_layer(text)


def test_window_larger_than_input_is_refused(q3_solver) -> None:
    """A kernel larger than its input is an error, not a zero or negative size."""
    with pytest.raises(SolverError, match="larger than"):
        q3_solver.solve_network((4, 4, 3), ["Conv(8, 5)"])


def test_groups_must_divide_channels(q3_solver) -> None:
    """Groups that do not divide the channels are refused."""
    with pytest.raises(SolverError, match="groups"):
        q3_solver.solve_network((8, 8, 3), ["Conv(8, 3, groups=2)"])


HOMEWORK = {"input_shape": [128, 128, 3], "layers": ["Conv(64, (5,5), 2)", "Conv(64, (3,3), 2)", "Max-Pool(3*3)"]}


@pytest.mark.parametrize("mistake, path, value", [
    ("no_bias", "layers[0].params", 4800),
    ("no_bias", "layers[1].params", 36864),
    ("ceil_mode", "layers[0].output_shape", (63, 63, 64)),
    ("same_padding", "layers[0].output_shape", (64, 64, 64)),
    ("channels_first", "layers[0].output_shape", (64, 62, 62)),
    ("input_channels_one", "layers[0].params", 1664),
    ("input_depth_ignored", "layers[1].params", 640),
    ("stride_ignored", "layers[0].output_shape", (124, 124, 64)),
    ("pool_stride_one", "layers[2].output_shape", (28, 28, 64)),
])
def test_mistake_switches(q3_solver, mistake, path, value) -> None:
    """Solving again with a mistake switched on gives that mistake's numbers."""
    assert q3_solver.solve(HOMEWORK, mistakes=frozenset({mistake}))[path] == value


def test_carried_forward_uses_the_students_previous_shape(q3_solver) -> None:
    """With the student's own layer-1 shape given, layer 2 is solved from it."""
    answers = q3_solver.solve(HOMEWORK, given={"layers[0].output_shape": (60, 60, 64)})
    assert answers["layers[0].output_shape"] == (62, 62, 64)
    assert answers["layers[1].output_shape"] == (29, 29, 64)


def test_carried_forward_skips_impossible_layers(q3_solver) -> None:
    """A given shape too small for the next layer leaves that layer out instead of failing."""
    answers = q3_solver.solve(HOMEWORK, given={"layers[0].output_shape": (2, 2, 64)})
    assert "layers[1].output_shape" not in answers
    assert answers["layers[0].params"] == 4864
