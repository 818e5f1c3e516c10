"""Symbolic derivations kept between runs, so that checks and runs need not import SymPy.

A solver derives its formulas with SymPy, which takes longer to import than
the rest of a check takes to run. What it derives depends on the problem's
structure (sizes, stride, mistakes), not on the student, so a solver marks
those functions ``@stored``: their results, formula trees and numbers, are
kept as JSON files, keyed by the function, the source of its module, the
grader's formula code and version, and the arguments. They are looked up in
two places before anything is derived:

- the problem's own ``derivations/`` folder, beside its solver: written by
  ``grade derive`` (:func:`ship_derivations`) and shipped with the problem,
  only read otherwise;
- the folder :func:`keep_in` names (``grade check`` names the user's cache
  folder), where what had to be derived is then kept.

A file that is missing, unreadable or damaged is derived again; a changed
solver or grader has other keys, so stale files are never read.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import inspect
import json
import os
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable, Iterable, TypeVar

from grader import __version__
from grader.formulas.expr import Expr, from_data

ENVIRONMENT = "GRADER_CACHE_DIR"
"""Environment variable naming the folder ``grade check`` keeps derivations in (empty: keep none)."""
SHIPPED = "derivations"
"""The folder beside a solver that holds its shipped derivations (made by ``grade derive``)."""
_FORMAT = 1
_FORMULA_CODE = Path(__file__).resolve().parent
_folder: Path | None = None
_shipping: set[Path] | None = None
"""While :func:`ship_derivations` runs: the shipped files written or found so far."""

Result = TypeVar("Result")


def keep_in(folder: Path | None) -> None:
    """Keep derivations in ``folder`` from now on (None: keep none, the default)."""
    global _folder
    _folder = folder


def user_cache_folder() -> Path | None:
    """``$GRADER_CACHE_DIR`` if set (None when empty), else ``hw-grader`` in ``$XDG_CACHE_HOME`` or ``~/.cache``."""
    chosen = os.environ.get(ENVIRONMENT)
    if chosen is not None:
        return Path(chosen) if chosen else None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "hw-grader" / "derivations"


def stored(function: Callable[..., Result]) -> Callable[..., Result]:
    """Keep ``function``'s results in memory, read them from the shipped or kept files, and keep new ones.

    Its arguments must be numbers, strings, tuples, frozensets or dataclasses
    of those; its results numbers, strings, tuples, dicts and formula trees.
    Callers must not change a result (it is shared).
    """
    code = hashlib.sha256(f"{_FORMAT}\0{__version__}\0{function.__module__}.{function.__qualname__}\0".encode())
    source = inspect.getsourcefile(function)
    shipped = Path(source).resolve().parent / SHIPPED if source else None
    # The grader's formula code too: it defines the trees and the symbols' names.
    for file in ([Path(source)] if source else []) + sorted(_FORMULA_CODE.glob("*.py")):
        code.update(file.read_bytes())

    @functools.lru_cache(maxsize=256)
    @functools.wraps(function)
    def kept(*args: Any) -> Result:
        if shipped is None and _folder is None:
            return function(*args)
        key = code.copy()
        key.update(json.dumps(_key_data(args), sort_keys=True).encode())
        name = f"{key.hexdigest()}.json"
        for folder in (shipped,) if _shipping is not None else (shipped, _folder):  # shipping: only what ships
            if folder is not None and (found := _read(folder / name)) is not _ABSENT:
                if _shipping is not None:
                    _shipping.add(folder / name)
                return found
        result = function(*args)
        text = json.dumps(_encode(result), separators=(",", ":")) + "\n"
        if _shipping is not None and shipped is not None:
            from grader.reporting.files import write_atomic

            write_atomic(shipped / name, text)  # shipping must not fail silently
            _shipping.add(shipped / name)
        elif _folder is not None:
            _keep(_folder / name, text)
        return result

    return kept


def ship_derivations(load: Callable[[], Iterable[Path]]) -> dict[Path, int]:
    """Derive what ``load`` needs into the ``derivations/`` folders beside the solvers, for shipping.

    Args:
        load: Loads the problems (that solves each for its expected answers
            and each mistake, which is all a check or a run derives) and
            returns each problem's ``derivations/`` folder. In these and in
            those written, files that were not needed (stale: a changed solver
            has other keys) are removed.

    Returns:
        Each folder written, with the number of derivations it holds.
    """
    global _shipping
    _shipping = set()  # loading imports the solvers afresh: their functions remember nothing yet
    try:
        folders = load()
        used = _shipping
    finally:
        _shipping = None
    written = sorted({file.parent for file in used})
    for folder in {*written, *(folder.resolve() for folder in folders)}:  # as ``used`` names them
        for stale in set(folder.glob("*.json")) - used:
            stale.unlink()
    return {folder: sum(1 for file in used if file.parent == folder) for folder in written}


_ABSENT = object()


def _read(file: Path) -> Any:
    """The value kept in ``file``, or ``_ABSENT`` when it is missing, unreadable or damaged."""
    try:
        return _decode(json.loads(file.read_bytes()))
    except (OSError, ValueError, TypeError, KeyError, RecursionError):
        return _ABSENT


def _keep(file: Path, text: str) -> None:
    """Write atomically; a folder that cannot be written only means deriving again next time."""
    from grader.reporting.files import write_atomic

    try:
        write_atomic(file, text)
    except OSError:
        pass


def _key_data(value: Any) -> Any:
    """Arguments as JSON data that is the same in every process (a frozenset's order is not)."""
    if isinstance(value, (frozenset, set)):
        return {"set": sorted((_key_data(v) for v in value), key=json.dumps)}
    if isinstance(value, (tuple, list)):
        return [_key_data(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {type(value).__name__: {f.name: _key_data(getattr(value, f.name)) for f in dataclasses.fields(value)}}
    if isinstance(value, Fraction):
        return {"fraction": str(value)}
    if value is None or isinstance(value, (bool, int, str)):
        return value
    raise TypeError(f"a stored function's argument cannot be {type(value).__name__}")


def _encode(value: Any) -> Any:
    if isinstance(value, Expr):
        return {"e": value.to_data()}
    if isinstance(value, Fraction):
        return {"f": str(value)}
    if isinstance(value, tuple):
        return {"t": [_encode(v) for v in value]}
    if isinstance(value, dict):
        return {"d": [[_encode(k), _encode(v)] for k, v in value.items()]}
    if value is None or isinstance(value, (bool, int, str)):
        return value
    raise TypeError(f"a stored function cannot return {type(value).__name__}")


def _decode(data: Any) -> Any:
    """The value :func:`_encode` wrote (ValueError, TypeError or KeyError when it is damaged)."""
    if isinstance(data, dict):
        (tag, inner), = data.items()
        if tag == "e":
            return from_data(inner)
        if tag == "f":
            return Fraction(inner)
        if tag == "t":
            return tuple(_decode(v) for v in inner)
        if tag == "d":
            return {_decode(k): _decode(v) for k, v in inner}
        raise ValueError(f"unknown tag {tag!r}")
    if data is None or isinstance(data, (bool, int, str)):
        return data
    raise ValueError("unexpected data")
