"""Shared fixtures: the repository's problems and sample submissions."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from grader.formulas.stored import ENVIRONMENT
from grader.problems import Problem, load_problems

ROOT = Path(__file__).resolve().parent.parent
PROBLEMS = ROOT / "problems"
SUBMISSIONS = ROOT / "submissions"


@pytest.fixture(scope="session", autouse=True)
def derivations_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A scratch folder for the derivations `grade check` keeps (never the user's own cache)."""
    folder = tmp_path_factory.mktemp("derivations")
    before = os.environ.get(ENVIRONMENT)
    os.environ[ENVIRONMENT] = str(folder)
    yield folder
    if before is None:
        del os.environ[ENVIRONMENT]
    else:
        os.environ[ENVIRONMENT] = before


@pytest.fixture(scope="session")
def problems() -> tuple[Problem, ...]:
    """The repository's problems, loaded once."""
    return load_problems(PROBLEMS)


def _solver(problems: tuple[Problem, ...], problem_id: str) -> ModuleType:
    return next(p for p in problems if p.id == problem_id).solver


@pytest.fixture(scope="session")
def q3_solver(problems) -> ModuleType:
    """The Q3 reference solver module."""
    return _solver(problems, "q3")


@pytest.fixture(scope="session")
def q4_solver(problems) -> ModuleType:
    """The Q4 reference solver module."""
    return _solver(problems, "q4")
