"""Problem statements with the problem's numbers written in.

A statement in ``problem.toml`` names parameters in braces, so that every
variant of a problem reads with its own numbers::

    The input is a colour image of size {input_shape[0]}×{input_shape[1]}.
    ورودی یک تصویر رنگی با اندازه {input_shape[0]:fa} در {input_shape[1]:fa} است.

``{name}`` is a parameter, ``[i]`` indexes into a list, and ``:fa`` writes the
digits in Persian (for prose; matrices stay in the digits students type). A
list of strings is written one per line, indented like the rest of its line;
other lists as ``[[3, 4], [2, 1]]``. Braces around anything that is not a
parameter are left as they are.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)((?:\[\d+\])*)(:fa)?\}")
_PERSIAN_DIGITS = str.maketrans("0123456789-", "۰۱۲۳۴۵۶۷۸۹−")


def render(text: str, parameters: Mapping[str, Any]) -> str:
    """``text`` with each ``{parameter}`` placeholder replaced by its value.

    Raises:
        IndexError, TypeError: When ``[i]`` indexes past a list or into a non-list
            (the problem loader turns these into a SpecError naming the statement).
    """
    lines = []
    for line in text.split("\n"):
        indent = line[:len(line) - len(line.lstrip(" "))]

        def fill(match: re.Match[str]) -> str:
            if match.group(1) not in parameters:
                return match.group(0)
            value: Any = parameters[match.group(1)]
            for index in re.findall(r"\d+", match.group(2)):
                value = value[int(index)]
            shown = _show(value, indent)
            return shown.translate(_PERSIAN_DIGITS) if match.group(3) else shown

        lines.append(_PLACEHOLDER.sub(fill, line))
    return "\n".join(lines)


def _show(value: Any, indent: str) -> str:
    if isinstance(value, list) and value and all(isinstance(item, str) for item in value):
        return ("\n" + indent).join(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_show(item, indent) for item in value) + "]"
    return str(value)
