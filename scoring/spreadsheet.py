"""The one formula-safe cell writer for every CSV and XLSX export (CWE-1236).

A spreadsheet runs a cell as a formula when its text starts with ``=``,
``+``, ``-`` or ``@`` (also tab, CR and LF, which some programs skip before
looking, and the full-width ``＝ ＋ － ＠`` that Chinese input methods type).

* CSV: such text gets a leading apostrophe (``'=HYPERLINK(...)``), which
  Excel and LibreOffice show as text.  The exchange reader takes the
  apostrophe off the ``comment`` column again (see ``docs/security.md``).
* XLSX: every text cell is written as a string (``t="inlineStr"``, never an
  ``<f>`` element) and dangerous ones carry Excel's ``quotePrefix`` style, so
  editing the cell does not turn it into a formula either; the value itself is
  kept exactly.

Numbers stay numbers in both.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["FORMULA_PREFIXES", "csv_row", "formula_safe", "is_dangerous", "unguard", "xlsx_row"]

FORMULA_PREFIXES = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")


def is_dangerous(text: str) -> bool:
    """True if a spreadsheet could evaluate ``text`` as a formula."""
    return bool(text) and text[0] in FORMULA_PREFIXES


def formula_safe(text: str) -> str:
    """Return ``text`` with an apostrophe before a formula-leading character."""
    return "'" + text if is_dangerous(text) else text


def unguard(text: str) -> str:
    """Undo :func:`formula_safe` (for readers of our own exports)."""
    return text[1:] if len(text) > 1 and text[0] == "'" and text[1] in FORMULA_PREFIXES else text


def csv_row(values: Iterable[object]) -> list[object]:
    """One CSV row: text formula-safe, ``None`` empty, numbers unchanged."""
    out: list[object] = []
    for value in values:
        if value is None:
            out.append("")
        elif isinstance(value, str):
            out.append(formula_safe(value))
        else:
            out.append(value)
    return out


def xlsx_row(sheet: Any, values: Iterable[object]) -> list[object]:
    """One row for an openpyxl write-only ``sheet``: text as string cells, never formulas."""
    from openpyxl.cell import WriteOnlyCell  # local: only XLSX exports need openpyxl

    out: list[object] = []
    for value in values:
        if isinstance(value, str):
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"  # openpyxl would type "=..." as a formula
            if is_dangerous(value):
                cell.quotePrefix = True
            out.append(cell)
        else:
            out.append(value)
    return out
