"""File names built from untrusted student ids."""

from __future__ import annotations

import hashlib
import re

_UNSAFE = re.compile(r"[^\w.-]|^\.+", re.UNICODE)
MAX_NAME = 80


def safe_file_name(student_id: str) -> str:
    """A file name for ``student_id`` that stays inside its folder.

    Letters (Persian included), digits, ``.``, ``_`` and ``-`` are kept; any
    other character (``/``, ``..`` at the start, NUL, control characters) is
    replaced, and a short hash of the original id is added whenever anything
    was changed, so two different ids never share a file.
    """
    cleaned = _UNSAFE.sub("_", student_id)[:MAX_NAME]
    if cleaned == student_id and cleaned:
        return cleaned
    digest = hashlib.sha256(student_id.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    return f"{cleaned or 'student'}-{digest}"
