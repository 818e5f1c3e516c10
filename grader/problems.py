"""Problem folders: finding them under ``problems/`` and loading spec and solver.

A problem folder ``problems/<id>_<slug>/`` holds ``problem.toml`` (data) and
``solver.py`` (the reference solver, course code we trust). The solver module
provides::

    MISTAKES: frozenset[str]   # optional: the mistake switches it implements
    def solve(parameters, *, mistakes=frozenset(), given=None) -> dict[str, value]
    def symbols(parameters) -> frozenset[str]   # optional: names formulas may use
    def vary(parameters, variants, rng) -> dict   # optional: a student's own parameters
    def verify(parameters, path, value, table) -> Verdict | None   # optional: for parts with check = "solver"

``solve`` maps each answer path (``"layers[0].params"``) to the expected value.
With ``mistakes`` it solves again with those mistakes switched on; with
``given`` (answer path -> the student's own readable values) it solves again
from the student's earlier answers, for error-carried-forward credit. ``vary``
draws new parameters with ``rng`` (a ``random.Random``) within the spec's
``[variants]`` table; see :mod:`grader.variants`.
"""

from __future__ import annotations

import importlib.util
import random
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType, ModuleType
from typing import Any, Mapping

from grader.errors import GraderError, SolverError, SpecError
from grader.hashed import CHECKS_FILE, HashedSolver
from grader.spec import Check, ProblemSpec, load_spec
from grader.statement import render

Answers = Mapping[str, Any]
"""Answer path (``layers[0].params``) -> value."""


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: variants are cached per problem
class Problem:
    """A loaded problem: its spec, its solver, and the answers it expects.

    Attributes:
        spec: The validated spec.
        solver: The imported ``solver.py`` module.
        expected: The reference answers for the spec's parameters.
        mistaken: For each mistake in the spec, the answers with it switched on.
        symbols: Symbol names the problem's formulas may use (from the solver's
            optional ``symbols(parameters)``).
    """

    spec: ProblemSpec
    solver: Any  # the solver.py module, or a student bundle's HashedSolver
    expected: Answers
    mistaken: Mapping[str, Answers]
    symbols: frozenset[str] = frozenset()

    @property
    def id(self) -> str:
        """The problem id (``q3``)."""
        return self.spec.id

    def with_parameters(self, parameters: Mapping[str, Any]) -> Problem:
        """The same problem with other numbers (a student's variant), solved again.

        Raises:
            SolverError: When the solver cannot solve them.
        """
        return build_problem(replace(self.spec, parameters=MappingProxyType(dict(parameters))), self.solver)

    def verify(self, path: str, value: Any, table: Mapping[str, Any]) -> Any:
        """The solver's own judgement of a ``check = "solver"`` part (a Verdict, or None for wrong)."""
        return self.solver.verify(self.spec.parameters, path, value, table)

    def solve(self, *, mistakes: frozenset[str] = frozenset(), given: Answers | None = None) -> Answers:
        """Run the solver on the spec's parameters; an impossible case gives no answers."""
        try:
            return dict(self.solver.solve(self.spec.parameters, mistakes=mistakes, given=given))
        except SolverError:
            return {}


def default_problems_dir() -> Path:
    """``./problems`` when it exists, else the ``problems/`` beside the installed package."""
    local = Path("problems")
    if local.is_dir():
        return local
    return Path(__file__).resolve().parent.parent / "problems"


def load_problems(root: Path) -> tuple[Problem, ...]:
    """Load every problem folder under ``root``, ordered by folder name.

    Raises:
        SpecError: Naming the file and key, when any folder is broken.
    """
    if not root.is_dir():
        raise GraderError(f"problems folder not found: {root} (use --problems DIR)")
    problems = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
        problems.append(load_problem(folder))
    ids = [p.id for p in problems]
    for problem in problems:
        if ids.count(problem.id) > 1:
            raise SpecError(problem.spec.folder / "problem.toml", "id", f"problem id {problem.id!r} is used twice")
    if not problems:
        raise GraderError(f"no problem folders in {root}")
    return tuple(problems)


def load_problem(folder: Path) -> Problem:
    """Load one problem folder and check that its solver answers every part.

    Raises:
        SpecError: When the spec or the solver is broken.
    """
    solver = _import_solver(folder)
    known = frozenset(getattr(solver, "MISTAKES", frozenset()))
    spec = load_spec(folder, known)
    if isinstance(solver, HashedSolver):  # a student bundle: the numbers are the ones its answers were hashed for
        spec = replace(spec, parameters=MappingProxyType(dict(solver.parameters)), variants=MappingProxyType({}))
    if not folder.name.startswith(f"{spec.id}_") and folder.name != spec.id:
        raise SpecError(folder / "problem.toml", "id", f"folder {folder.name!r} must be named <id>_<slug> for id {spec.id!r}")
    _check_variants(folder / "problem.toml", spec, solver)
    for index, part in enumerate(spec.parts):
        if part.check is Check.SOLVER and not callable(getattr(solver, "verify", None)):
            raise SpecError(folder / "problem.toml", f"parts[{index}].check",
                            "the solver has no verify(parameters, path, value, table) for check = 'solver'")
    try:
        problem = build_problem(spec, solver)
    except (SolverError, ValueError, KeyError, TypeError) as error:
        raise SpecError(folder / "problem.toml", "parameters", f"the solver cannot solve them: {error}") from None
    for index, part in enumerate(spec.parts):
        if part.answer_text not in problem.expected:
            raise SpecError(folder / "problem.toml", f"parts[{index}].answer",
                            f"the solver gives no answer for {part.answer_text!r}")
    return problem


def _check_variants(file: Path, spec: ProblemSpec, solver: Any) -> None:
    """The statements render with the parameters, and a ``[variants]`` table is one ``vary`` can draw from.

    Raises:
        SpecError: Naming the statement or the ``variants`` table.
    """
    for lang in ("en", "fa"):
        try:
            render(getattr(spec.statement, lang), spec.parameters)
        except (IndexError, TypeError) as error:
            raise SpecError(file, f"statement.{lang}", f"a placeholder does not fit the parameters: {error}") from None
    if not spec.variants:
        return
    if not callable(getattr(solver, "vary", None)):
        raise SpecError(file, "variants", "the solver has no vary(parameters, variants, rng) to draw variants with")
    try:  # drawing is cheap; solving the draw waits for the first student
        solver.vary(spec.parameters, spec.variants, random.Random(0))
    except (SolverError, ValueError, KeyError, TypeError) as error:
        raise SpecError(file, "variants", f"the solver cannot draw from it: {error}") from None


def build_problem(spec: ProblemSpec, solver: Any) -> Problem:
    """Solve a spec: its expected answers, each mistake's answers, and its symbols.

    Raises:
        SolverError: When the solver cannot solve the parameters.
    """
    expected = dict(solver.solve(spec.parameters))
    symbols = frozenset(solver.symbols(spec.parameters)) if callable(getattr(solver, "symbols", None)) else frozenset()
    problem = Problem(spec, solver, MappingProxyType(expected), MappingProxyType({}), symbols)
    known = frozenset(getattr(solver, "MISTAKES", frozenset()))
    switches = known & set(spec.mistakes)  # the engine's own diagnoses need no solve
    mistaken = {m: MappingProxyType(problem.solve(mistakes=frozenset({m}))) for m in sorted(switches)}
    return Problem(spec, solver, problem.expected, MappingProxyType(mistaken), symbols)


def _import_solver(folder: Path) -> ModuleType | HashedSolver:
    file = folder / "solver.py"
    if not file.is_file() and (folder / CHECKS_FILE).is_file():
        return HashedSolver(folder / CHECKS_FILE)
    if not file.is_file():
        raise SpecError(file, "", "problem folder has no solver.py")
    name = f"grader_problems.{folder.name}"
    module_spec = importlib.util.spec_from_file_location(name, file)
    if module_spec is None or module_spec.loader is None:
        raise SpecError(file, "", "cannot import the solver")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module  # dataclasses in the solver look their module up here
    try:
        module_spec.loader.exec_module(module)
    except Exception as error:  # a broken solver is a broken problem folder
        del sys.modules[name]
        raise SpecError(file, "", f"the solver fails to import: {type(error).__name__}: {error}") from None
    if not callable(getattr(module, "solve", None)):
        raise SpecError(file, "solve", "the solver must define solve(parameters, *, mistakes, given)")
    return module
