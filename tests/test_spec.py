"""Problem folders: grader.spec (problem.toml) and grader.problems (spec + solver)."""

from __future__ import annotations

import shutil
import sys
from fractions import Fraction
from pathlib import Path

import pytest

from grader.errors import GraderError, SpecError
from grader.problems import load_problem, load_problems
from grader.spec import AnswerKind, format_path, load_spec, parse_path

REPO_PROBLEMS = Path(__file__).resolve().parent.parent / "problems"
Q3_SOLVER = REPO_PROBLEMS / "q3_cnn_shapes" / "solver.py"

VALID_TOML = '''\
id = "q3"

[title]
en = "CNN shapes"
fa = "ابعاد شبکه"

[statement]
en = "Find the output shapes."
fa = "ابعاد خروجی را بیابید."

[parameters]
input_shape = [128, 128, 3]
layers = ["Conv(64, (5,5), 2)", "Max-Pool(3*3)"]

[grading]
carried_forward_credit = 1

[[parts]]
id = "layer1.output_shape"
answer = "layers[0].output_shape"
kind = "shape"
points = 1
hint = { en = "Use the formula.", fa = "از فرمول استفاده کنید." }

[[parts]]
id = "layer1.params"
answer = "layers[0].params"
kind = "integer"
points = 2

[mistakes.no_bias]
credit = 0.5
en = "Biases left out."
fa = "بایاس‌ها شمرده نشده‌اند."
'''


def variant(old: str, new: str, base: str = VALID_TOML) -> str:
    """VALID_TOML with one exact piece replaced (the piece must be there)."""
    assert base.count(old) == 1, f"test bug: {old!r} not found once in the base spec"
    return base.replace(old, new)


PARTS_BLOCK = VALID_TOML[VALID_TOML.index("[[parts]]"):VALID_TOML.index("[mistakes.no_bias]")]


def make_folder(root: Path, toml: str | None, name: str = "q3_test", solver: str | None = None) -> Path:
    """A problem folder under ``root`` with the given problem.toml and (by default) the real Q3 solver."""
    folder = root / name
    folder.mkdir(parents=True)
    if toml is not None:
        (folder / "problem.toml").write_text(toml, encoding="utf-8")
    if solver is None:
        shutil.copy(Q3_SOLVER, folder / "solver.py")
    else:
        (folder / "solver.py").write_text(solver, encoding="utf-8")
    return folder


def assert_names(error: SpecError, file: Path, key: str) -> None:
    """The SpecError names the file and (when given) the key, in its attributes and its message."""
    assert Path(error.file) == file
    assert error.key == key
    assert str(file) in str(error)
    if key:
        assert f"key '{key}'" in str(error)


# --- a valid folder ---------------------------------------------------------------------------

def test_valid_folder_loads(tmp_path):
    """The base spec used by the broken variants is itself valid and loads as written."""
    problem = load_problem(make_folder(tmp_path, VALID_TOML))
    spec = problem.spec
    assert spec.id == "q3" and problem.id == "q3"
    assert spec.title.en == "CNN shapes" and spec.title.fa == "ابعاد شبکه"
    assert [p.id for p in spec.parts] == ["layer1.output_shape", "layer1.params"]
    assert spec.parts[0].answer == ("layers", 0, "output_shape")
    assert spec.parts[0].kind is AnswerKind.SHAPE and spec.parts[1].kind is AnswerKind.INTEGER
    assert spec.parts[0].hint is not None and spec.parts[0].hint.en == "Use the formula."
    assert spec.parts[1].hint is None
    assert spec.max_score == Fraction(3)
    assert spec.mistakes["no_bias"].credit == Fraction(1, 2)
    assert problem.expected["layers[0].output_shape"] == (62, 62, 64)
    assert problem.expected["layers[0].params"] == 4864
    assert problem.mistaken["no_bias"]["layers[0].params"] == 4864 - 64


def test_folder_named_exactly_the_id_loads(tmp_path):
    """A folder named just ``<id>`` (no slug) is accepted."""
    assert load_problem(make_folder(tmp_path, VALID_TOML, name="q3")).id == "q3"


def test_spec_parameters_are_read_only(tmp_path):
    """The parameters handed to the solver cannot be modified through the spec."""
    spec = load_problem(make_folder(tmp_path, VALID_TOML)).spec
    with pytest.raises(TypeError):
        spec.parameters["layers"] = []  # type: ignore[index]


# --- broken problem.toml ----------------------------------------------------------------------

BROKEN_SPECS = {
    "missing id": (variant('id = "q3"\n', ""), "id", "required"),
    "upper-case id": (variant('id = "q3"', 'id = "Q3"'), "id", "'Q3'"),
    "id starting with a digit": (variant('id = "q3"', 'id = "3q"'), "id", "'3q'"),
    "id with a dash": (variant('id = "q3"', 'id = "q-3"'), "id", "'q-3'"),
    "id not a string": (variant('id = "q3"', "id = 3"), "id", "expected str"),
    "missing parts": (variant(PARTS_BLOCK, ""), "parts", "required"),
    "empty parts": (variant('id = "q3"\n', 'id = "q3"\nparts = []\n', variant(PARTS_BLOCK, "")),
                    "parts", "at least one part"),
    "unknown kind": (variant('kind = "shape"', 'kind = "tensor"'), "parts[0].kind",
                     "'tensor'; one of: number, integer, shape, matrix, boolean"),
    "negative points": (variant("points = 2", "points = -1"), "parts[1].points", "at least 0"),
    "non-numeric points": (variant("points = 2", 'points = "lots"'), "parts[1].points", "expected a number"),
    "boolean points": (variant("points = 2", "points = true"), "parts[1].points", "got bool"),
    "missing points": (variant("points = 2\n", ""), "parts[1].points", "required"),
    "duplicate part id": (variant('id = "layer1.params"', 'id = "layer1.output_shape"'), "parts[1].id",
                          "duplicate part id 'layer1.output_shape'"),
    "malformed answer path": (variant('answer = "layers[0].params"', 'answer = "layers[0]..params"'),
                              "parts[1].answer", "not an answer path"),
    "negative tolerance": (variant("points = 2\n", "points = 2\nrel_tol = -0.1\n"), "parts[1].rel_tol", "at least 0"),
    "credit above 1": (variant("credit = 0.5", "credit = 1.5"), "mistakes.no_bias.credit", "between 0 and 1"),
    "negative credit": (variant("credit = 0.5", "credit = -0.5"), "mistakes.no_bias.credit", "between 0 and 1"),
    "mistake without message": (variant('en = "Biases left out."\n', ""), "mistakes.no_bias.en", "required"),
    "carried-forward credit above 1": (variant("carried_forward_credit = 1", "carried_forward_credit = 2"),
                                       "grading.carried_forward_credit", "between 0 and 1"),
    "missing title.en": (variant('en = "CNN shapes"\n', ""), "title.en", "required"),
    "missing statement": (variant('[statement]\nen = "Find the output shapes."\nfa = "ابعاد خروجی را بیابید."\n', ""),
                          "statement", "required"),
}


@pytest.mark.parametrize(("toml", "key", "fragment"), list(BROKEN_SPECS.values()), ids=list(BROKEN_SPECS))
def test_broken_spec_names_file_and_key(tmp_path, toml, key, fragment):
    """A broken problem.toml raises SpecError naming problem.toml, the offending key and the reason."""
    folder = make_folder(tmp_path, toml)
    with pytest.raises(SpecError) as info:
        load_problem(folder)
    assert_names(info.value, folder / "problem.toml", key)
    assert fragment in info.value.message


@pytest.mark.parametrize("toml_id", ['"q3\\n"', '"q3 "', '""', '"q٣"'])
def test_load_spec_refuses_ids_that_are_not_plain(tmp_path, toml_id):
    """load_spec itself refuses an id with a trailing newline or space, an empty id or non-ASCII digits."""
    toml = variant('id = "q3"', f"id = {toml_id}")
    folder = make_folder(tmp_path, toml)
    with pytest.raises(SpecError) as info:
        load_spec(folder, frozenset({"no_bias"}))
    assert_names(info.value, folder / "problem.toml", "id")
    assert "lower-case" in info.value.message


def test_answer_path_the_solver_does_not_produce(tmp_path):
    """A part whose answer path the solver never gives is refused, naming the part's answer key and the path."""
    folder = make_folder(tmp_path, variant('answer = "layers[0].params"', 'answer = "layers[5].params"'))
    with pytest.raises(SpecError) as info:
        load_problem(folder)
    assert_names(info.value, folder / "problem.toml", "parts[1].answer")
    assert "'layers[5].params'" in info.value.message


def test_mistake_the_solver_has_no_switch_for(tmp_path):
    """Credit for a mistake the solver cannot switch on is refused, listing the switches it has."""
    folder = make_folder(tmp_path, VALID_TOML + '\n[mistakes.off_by_one]\ncredit = 0.5\nen = "x"\nfa = "y"\n')
    with pytest.raises(SpecError) as info:
        load_problem(folder)
    assert_names(info.value, folder / "problem.toml", "mistakes.off_by_one")
    assert "no_bias" in info.value.message and "ceil_mode" in info.value.message


def test_load_spec_without_known_mistakes_refuses_any_mistake(tmp_path):
    """load_spec with no known mistake switches refuses the spec's solver mistakes and lists only the engine's."""
    folder = make_folder(tmp_path, VALID_TOML)
    with pytest.raises(SpecError) as info:
        load_spec(folder)
    assert_names(info.value, folder / "problem.toml", "mistakes.no_bias")
    known = info.value.message.split("known:")[1]
    assert "sign_wrong" in known and "no_bias" not in known


def test_invalid_toml_names_file_and_position(tmp_path):
    """A problem.toml that is not TOML raises SpecError naming the file and the parser's line."""
    folder = make_folder(tmp_path, variant('id = "q3"', 'id = "q3'))
    with pytest.raises(SpecError) as info:
        load_problem(folder)
    assert_names(info.value, folder / "problem.toml", "")
    assert "not valid TOML" in info.value.message
    assert "line 1" in info.value.message


def test_missing_problem_toml(tmp_path):
    """A folder with a solver but no problem.toml raises SpecError naming problem.toml."""
    folder = make_folder(tmp_path, None)
    with pytest.raises(SpecError) as info:
        load_problem(folder)
    assert_names(info.value, folder / "problem.toml", "")
    assert "no problem.toml" in info.value.message


@pytest.mark.parametrize("name", ["q4_shapes", "q3x_shapes", "shapes_q3"])
def test_folder_name_must_start_with_id(tmp_path, name):
    """A folder not named ``<id>_<slug>`` is refused, naming the id key and the folder."""
    folder = make_folder(tmp_path, VALID_TOML, name=name)
    with pytest.raises(SpecError) as info:
        load_problem(folder)
    assert_names(info.value, folder / "problem.toml", "id")
    assert repr(name) in info.value.message


@pytest.mark.parametrize(("layers", "fragment"), [
    ('["Foo(3)"]', "Foo"),
    ('["Conv(64, (500,500), 2)"]', "larger than"),
    ("[]", "layers"),
])
def test_invalid_parameters(tmp_path, layers, fragment):
    """Parameters the solver cannot solve raise SpecError on the parameters key, with the solver's reason."""
    toml = variant('layers = ["Conv(64, (5,5), 2)", "Max-Pool(3*3)"]', f"layers = {layers}")
    folder = make_folder(tmp_path, toml)
    with pytest.raises(SpecError) as info:
        load_problem(folder)
    assert_names(info.value, folder / "problem.toml", "parameters")
    assert "cannot solve" in info.value.message
    assert fragment in info.value.message


def test_invalid_input_shape_parameter(tmp_path):
    """A non-positive input size is refused on the parameters key."""
    folder = make_folder(tmp_path, variant("input_shape = [128, 128, 3]", "input_shape = [0, 128, 3]"))
    with pytest.raises(SpecError) as info:
        load_problem(folder)
    assert_names(info.value, folder / "problem.toml", "parameters")
    assert "input_shape" in info.value.message


# --- broken solver.py -------------------------------------------------------------------------

def test_solver_that_raises_on_import(tmp_path):
    """A solver.py that raises while importing gives SpecError naming solver.py and the exception, and is not left in sys.modules."""
    folder = make_folder(tmp_path, VALID_TOML, name="q3_broken_import", solver='raise RuntimeError("boom")\n')
    with pytest.raises(SpecError) as info:
        load_problem(folder)
    assert_names(info.value, folder / "solver.py", "")
    assert "RuntimeError: boom" in info.value.message
    assert "grader_problems.q3_broken_import" not in sys.modules


def test_solver_with_syntax_error(tmp_path):
    """A solver.py that is not valid Python gives SpecError naming solver.py."""
    folder = make_folder(tmp_path, VALID_TOML, solver="def solve(:\n")
    with pytest.raises(SpecError) as info:
        load_problem(folder)
    assert_names(info.value, folder / "solver.py", "")
    assert "SyntaxError" in info.value.message


def test_missing_solver(tmp_path):
    """A folder without solver.py gives SpecError naming solver.py."""
    folder = make_folder(tmp_path, VALID_TOML)
    (folder / "solver.py").unlink()
    with pytest.raises(SpecError) as info:
        load_problem(folder)
    assert_names(info.value, folder / "solver.py", "")
    assert "no solver.py" in info.value.message


def test_solver_without_solve_function(tmp_path):
    """A solver.py that defines no solve() gives SpecError naming solver.py and the solve key."""
    folder = make_folder(tmp_path, VALID_TOML, solver="MISTAKES = frozenset()\nsolve = 42\n")
    with pytest.raises(SpecError) as info:
        load_problem(folder)
    assert_names(info.value, folder / "solver.py", "solve")


# --- load_problems ----------------------------------------------------------------------------

def test_repository_problems_load():
    """The shipped problems load; q3 has 6 parts worth 6 points and the homework's expected answers."""
    problems = load_problems(REPO_PROBLEMS)
    by_id = {p.id: p for p in problems}
    assert len(by_id) == len(problems)
    q3 = by_id["q3"]
    assert len(q3.spec.parts) == 6
    assert q3.spec.max_score == 6
    assert q3.expected["layers[0].output_shape"] == (62, 62, 64)
    assert q3.expected["layers[0].params"] == 4864
    assert q3.expected["layers[1].params"] == 36928
    assert q3.expected["layers[2].output_shape"] == (10, 10, 64)
    assert q3.expected["layers[2].params"] == 0
    assert set(q3.mistaken) == set(q3.spec.mistakes)
    assert [p.spec.folder.name for p in problems] == sorted(p.spec.folder.name for p in problems)


def test_load_problems_skips_hidden_and_underscore_folders(tmp_path):
    """Folders starting with '.' or '_' and plain files under the problems root are ignored."""
    make_folder(tmp_path, VALID_TOML)
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "problem.toml").write_text("not toml [", encoding="utf-8")
    (tmp_path / "_drafts").mkdir()
    (tmp_path / "README.md").write_text("notes", encoding="utf-8")
    assert [p.id for p in load_problems(tmp_path)] == ["q3"]


def test_load_problems_refuses_duplicate_ids(tmp_path):
    """Two folders with the same problem id raise SpecError on the id key."""
    make_folder(tmp_path, VALID_TOML, name="q3_a")
    make_folder(tmp_path, VALID_TOML, name="q3_b")
    with pytest.raises(SpecError) as info:
        load_problems(tmp_path)
    assert info.value.key == "id"
    assert "used twice" in info.value.message


def test_load_problems_stops_at_first_broken_folder(tmp_path):
    """One broken folder among good ones makes load_problems raise that folder's SpecError."""
    make_folder(tmp_path, VALID_TOML, name="q3_good")
    broken = make_folder(tmp_path, variant("points = 2", "points = -1").replace('id = "q3"', 'id = "q4"'), name="q4_bad")
    with pytest.raises(SpecError) as info:
        load_problems(tmp_path)
    assert_names(info.value, broken / "problem.toml", "parts[1].points")


@pytest.mark.parametrize("make_root", [lambda p: p / "absent", lambda p: p])
def test_load_problems_without_problems(tmp_path, make_root):
    """A missing or empty problems root raises GraderError."""
    with pytest.raises(GraderError) as info:
        load_problems(make_root(tmp_path))
    assert "problem" in str(info.value)


# --- answer paths -----------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "segments"), [
    ("y", ("y",)),
    ("O", ("O",)),
    ("layers[0].params", ("layers", 0, "params")),
    ("layers[12].output_shape", ("layers", 12, "output_shape")),
    ("formulas.dL_dF11", ("formulas", "dL_dF11")),
    ("a[0][1]", ("a", 0, 1)),
    ("_x.b[3].c", ("_x", "b", 3, "c")),
])
def test_parse_and_format_path_round_trip(text, segments):
    """parse_path splits a path into names and indices, and format_path gives the same text back."""
    assert parse_path(text) == segments
    assert format_path(segments) == text
    assert parse_path(format_path(segments)) == segments


@pytest.mark.parametrize("text", [
    "", "layers[0]..params", "[0].params", "layers[-1]", "layers[a]", "1layers", "layers.", "layers[0]params",
    "layers[0] .params", "لایه", "a-b",
])
def test_parse_path_rejects_non_paths(text):
    """Text that is not an answer path raises ValueError quoting it."""
    with pytest.raises(ValueError) as info:
        parse_path(text)
    assert repr(text) in str(info.value)
