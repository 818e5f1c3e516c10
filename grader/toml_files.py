"""Reading the TOML files course staff write (problem specs, rubrics, course settings)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import tomli

from grader.errors import SpecError


def read_toml(file: Path, missing: str = "file not found") -> dict[str, Any]:
    """Read a course-staff TOML file (spec, rubric, settings).

    Raises:
        SpecError: Naming the file, when it is missing (with ``missing`` as the
            message) or not valid UTF-8 TOML.
    """
    try:
        return tomli.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SpecError(file, "", missing) from None
    except (tomli.TOMLDecodeError, UnicodeDecodeError) as error:
        raise SpecError(file, "", f"not valid TOML: {error}") from None
