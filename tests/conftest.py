"""Shared fixtures: the repository's problems and sample submissions."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from grader.problems import Problem, load_problems

ROOT = Path(__file__).resolve().parent.parent
PROBLEMS = ROOT / "problems"
SUBMISSIONS = ROOT / "submissions"


@pytest.fixture(scope="session")
def problems() -> tuple[Problem, ...]:
    """The repository's problems, loaded once."""
    return load_problems(PROBLEMS)


@pytest.fixture(scope="session")
def q3_solver() -> ModuleType:
    """The Q3 reference solver module."""
    name = "tests_q3_solver"
    spec = importlib.util.spec_from_file_location(name, PROBLEMS / "q3_cnn_shapes" / "solver.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def q4_solver() -> ModuleType:
    """The Q4 reference solver module."""
    name = "tests_q4_solver"
    spec = importlib.util.spec_from_file_location(name, PROBLEMS / "q4_conv_backprop" / "solver.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
