"""Reading the TOML files course staff write (problem specs, rubrics, course settings)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from grader.errors import SpecError


def read_toml(file: Path, missing: str = "file not found") -> dict[str, Any]:
    """Read a course-staff TOML file (spec, rubric, settings).

    Raises:
        SpecError: Naming the file, when it is missing (with ``missing`` as the
            message) or not valid UTF-8 TOML.
    """
    try:
        return tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SpecError(file, "", missing) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise SpecError(file, "", f"not valid TOML: {error}") from None
