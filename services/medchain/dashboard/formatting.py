"""How the templates write numbers and hashes (Jinja filters), in one place."""

from __future__ import annotations

import math

from jinja2 import Environment


def short(value: str, length: int = 12) -> str:
    """A hash or transaction id cut to its first characters (the full value goes in a title)."""
    return value if len(value) <= length else f"{value[:length]}…"


def number(value: float | int | None, digits: int = 3) -> str:
    """A metric for people: fixed decimals, an en dash for none."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return f"{value:.{digits}f}"


def install(env: Environment) -> None:
    env.filters["short"] = short
    env.filters["number"] = number
