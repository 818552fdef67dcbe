"""Population margins: the counts that raking and the district reference use.

One row per street x group x variable x category (CSV or XLSX)::

    street, group, variable, category, count

``variable`` is ``age_band`` (categories ``18-34, 35-59, 60-69, 70-79, 80+``),
``gender`` (``female, male``) or ``total`` (the one category ``all``: how many
people, or resident units, the street x group has); ``count`` is a number ≥ 0.
A street x group may give any of the three; a variable it gives lists every
category (0 where there is nobody), and the variables it gives add up to the
same total.  Raking uses ``age_band`` and ``gender``; the population-weighted
district reference uses each street x group's total (``total`` when given,
else the sum of a variable's categories), so a group that is not raked, such
as resident units, gives ``total`` alone.  A file with any problem is rejected
whole, every problem reported as ``line N, column C (NAME): reason`` (:class:`PopulationError`).

See ``docs/weighting.md`` for how the margins are used.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from .exchange import decode_utf8

__all__ = [
    "AGE_BANDS",
    "COLUMNS",
    "GENDERS",
    "VARIABLES",
    "MarginRow",
    "Margins",
    "Population",
    "PopulationError",
    "TOTAL",
    "TOTAL_CATEGORY",
    "parse_population_rows",
    "read_population",
    "write_population_csv",
    "write_population_xlsx",
]

AGE_BANDS = ("18-34", "35-59", "60-69", "70-79", "80+")
GENDERS = ("female", "male")  # "undisclosed" is a response code, not a population category
VARIABLES: dict[str, tuple[str, ...]] = {"age_band": AGE_BANDS, "gender": GENDERS}
TOTAL = "total"  # a street x group's head count without a breakdown (e.g. resident units)
TOTAL_CATEGORY = "all"
# every variable a file may give: the raking variables, then the total
FILE_VARIABLES: dict[str, tuple[str, ...]] = {**VARIABLES, TOTAL: (TOTAL_CATEGORY,)}
COLUMNS = ("street", "group", "variable", "category", "count")
MAX_PROBLEMS = 200
_REL_TOL = 1e-9

FloatArray = npt.NDArray[np.float64]


class PopulationError(ValueError):
    """A population file rejected whole; ``problems`` lists every reason."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        shown = self.problems[:MAX_PROBLEMS]
        more = len(self.problems) - len(shown)
        super().__init__("\n".join(shown + ([f"... and {more} more"] if more > 0 else [])))


@dataclass(frozen=True, slots=True)
class MarginRow:
    """One population count: ``count`` people of ``category`` in street x group."""

    street: str
    group: str
    variable: str
    category: str
    count: float


@dataclass(frozen=True, slots=True, eq=False)
class Margins:
    """Population margins as arrays aligned with a scoring run's streets and groups.

    Attributes
    ----------
    age : (S, G, 5) float array
        Counts by age band; NaN rows where the cell gives no age margin.
    gender : (S, G, 2) float array
        Counts by gender; NaN rows where the cell gives no gender margin.
    total : (S, G) float array
        Population of each street x group (its ``total`` row, else the sum of a
        variable's categories); NaN where the file has no row for it.
    """

    age: FloatArray
    gender: FloatArray
    total: FloatArray

    @property
    def raked(self) -> npt.NDArray[np.bool_]:
        """(S, G): street x groups with an age band or gender margin (the cells raked)."""
        out: npt.NDArray[np.bool_] = np.logical_or(
            np.isfinite(self.age).all(axis=-1), np.isfinite(self.gender).all(axis=-1)
        )
        return out


@dataclass(frozen=True, slots=True, eq=False)
class Population:
    """Validated population margins (rows in a canonical order)."""

    rows: tuple[MarginRow, ...]

    @property
    def cells(self) -> tuple[tuple[str, str], ...]:
        """Street x group pairs with at least one row, in file order."""
        return tuple(dict.fromkeys((r.street, r.group) for r in self.rows))

    @property
    def streets(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r.street for r in self.rows))

    def margins(self, street: str, group: str) -> dict[str, dict[str, float]]:
        """``{variable: {category: count}}`` of one street x group (empty if none)."""
        out: dict[str, dict[str, float]] = {}
        for r in self.rows:
            if r.street == street and r.group == group:
                out.setdefault(r.variable, {})[r.category] = r.count
        return out

    def total(self, street: str, group: str) -> float | None:
        """Population of a street x group, or None when the file does not give it."""
        m = self.margins(street, group)
        if TOTAL in m:
            return float(m[TOTAL][TOTAL_CATEGORY])
        for counts in m.values():
            return float(sum(counts.values()))
        return None

    def arrays(self, streets: Sequence[str], groups: Sequence[str]) -> Margins:
        """Margins aligned with ``streets`` x ``groups`` (NaN where not given).

        Rows for streets or groups not listed are ignored (a street without
        responses is simply not scored).
        """
        s_index = {s: i for i, s in enumerate(streets)}
        g_index = {g: i for i, g in enumerate(groups)}
        S, G = len(streets), len(groups)
        arr = {v: np.full((S, G, len(cats)), np.nan) for v, cats in FILE_VARIABLES.items()}
        for r in self.rows:
            s, g = s_index.get(r.street), g_index.get(r.group)
            if s is None or g is None:
                continue
            block = arr[r.variable][s, g]
            if np.isnan(block).all():
                block[:] = 0.0
            block[FILE_VARIABLES[r.variable].index(r.category)] = r.count
        age, gender = arr["age_band"], arr["gender"]
        total = np.where(np.isnan(age[..., 0]), gender.sum(axis=-1), age.sum(axis=-1))
        given = arr[TOTAL][..., 0]
        total = np.where(np.isfinite(given), given, total)
        return Margins(age=age, gender=gender, total=total)

    def totals(self, streets: Sequence[str], groups: Sequence[str]) -> FloatArray:
        """(S, G) population counts (NaN where not given): the district reference's input."""
        return self.arrays(streets, groups).total

    def sha256(self) -> str:
        """Digest of the canonical CSV (what a scoring run records)."""
        return hashlib.sha256(write_population_csv(self)).hexdigest()


# -- reading -------------------------------------------------------------------


def _decode(data: bytes) -> str:
    return decode_utf8(data, PopulationError)


def _csv_rows(data: bytes) -> list[list[str]]:
    try:
        return list(csv.reader(io.StringIO(_decode(data), newline="")))
    except csv.Error as exc:
        raise PopulationError([f"the file is not valid CSV: {exc}"]) from None


def _xlsx_rows(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook  # local: only XLSX files need it

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many types for a damaged file
        raise PopulationError(["the file is not a readable .xlsx workbook"]) from None
    rows: list[list[str]] = []
    for row in book.worksheets[0].iter_rows(values_only=True):
        cells = []
        for v in row:
            if v is None:
                cells.append("")
            elif isinstance(v, float) and v.is_integer():
                cells.append(str(int(v)))
            else:
                cells.append(str(v))
        while cells and cells[-1] == "":
            cells.pop()
        rows.append(cells)
    book.close()
    while rows and not any(rows[-1]):
        rows.pop()
    return rows


def read_population(
    source: str | Path | bytes,
    *,
    streets: Mapping[str, str] | None = None,
    groups: Sequence[str] | None = None,
    fmt: str | None = None,
) -> Population:
    """Read and validate a population margins file (CSV UTF-8 with or without BOM, or XLSX).

    :param source: a path, or the file's bytes.
    :param streets: optional map of accepted street names *and* codes to the
        canonical name; unknown streets are then an error.
    :param groups: optional group codes accepted (the framework's).
    :param fmt: ``"csv"`` or ``"xlsx"``; guessed from the path or the bytes.
    :raises PopulationError: with every problem; nothing is returned then.
    """
    if isinstance(source, str | Path):
        path = Path(source)
        fmt = fmt or ("xlsx" if path.suffix.lower() == ".xlsx" else "csv")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise PopulationError([f"{path.name}: cannot read the file ({exc.strerror})"]) from None
    else:
        data = source
        fmt = fmt or ("xlsx" if data[:2] == b"PK" else "csv")
    rows = _xlsx_rows(data) if fmt == "xlsx" else _csv_rows(data)
    return parse_population_rows(rows, streets=streets, groups=groups)


def parse_population_rows(
    rows: Sequence[Sequence[str]],
    *,
    streets: Mapping[str, str] | None = None,
    groups: Sequence[str] | None = None,
    where: Callable[[int, str], str] | None = None,
) -> Population:
    """Validate table rows (header first) into a :class:`Population`.

    :param where: how a problem's place is named from (line, column name);
        default ``line N, column C (NAME)``.  The console's entry form passes
        its own (street, group and category instead of a line).
    :raises PopulationError: with every problem.
    """
    if not rows or not any(c.strip() for c in rows[0]):
        raise PopulationError(["line 1: the file is empty: it needs a header row and counts"])
    header = [c.strip() for c in rows[0]]
    problems: list[str] = []
    for n, name in enumerate(header, start=1):
        if name not in COLUMNS:
            problems.append(f"line 1, column {n} ({name}): unknown column")
        elif header.index(name) != n - 1:
            problems.append(f"line 1, column {n} ({name}): duplicate column")
    for name in COLUMNS:
        if name not in header:
            problems.append(f"line 1: missing column {name}")
    if problems:
        raise PopulationError(problems)
    col = {name: header.index(name) for name in COLUMNS}

    def place(line: int, name: str) -> str:
        if where is not None:
            return where(line, name)
        return f"line {line}, column {col[name] + 1} ({name})"

    group_set = set(groups) if groups is not None else None
    parsed: list[tuple[int, MarginRow]] = []
    seen: dict[tuple[str, str, str, str], int] = {}
    bad_cells: set[tuple[str, str]] = set()  # rows with problems: no follow-on cell checks
    for line, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        if len(row) > len(header):
            problems.append(
                f"line {line}: has {len(row)} cells but the header has {len(header)} columns"
            )
            continue
        cells = {name: (row[i].strip() if i < len(row) else "") for name, i in col.items()}
        bad = len(problems)
        street = cells["street"]
        if not street:
            problems.append(f"{place(line, 'street')}: street is empty")
        elif streets is not None:
            canonical = streets.get(street)
            if canonical is None:
                problems.append(f"{place(line, 'street')}: unknown street '{street}'")
            else:
                street = canonical
        group = cells["group"]
        if not group:
            problems.append(f"{place(line, 'group')}: group is empty")
        elif group_set is not None and group not in group_set:
            allowed = ", ".join(groups or ())
            problems.append(
                f"{place(line, 'group')}: unknown group '{group}' (use one of {allowed})"
            )
        variable = cells["variable"]
        category = cells["category"]
        if variable not in FILE_VARIABLES:
            problems.append(
                f"{place(line, 'variable')}: unknown variable '{variable}' "
                "(use age_band, gender or total)"
            )
        elif category not in FILE_VARIABLES[variable]:
            extra = (
                "; 'undisclosed' is an answer, not a population category"
                if category == "undisclosed"
                else ""
            )
            problems.append(
                f"{place(line, 'category')}: '{category}' is not a {variable} category "
                f"(use {', '.join(FILE_VARIABLES[variable])}){extra}"
            )
        raw = cells["count"]
        try:
            count = float(raw)
        except ValueError:
            count = math.nan
        if not raw:
            problems.append(f"{place(line, 'count')}: count is empty (give 0 if there is nobody)")
        elif not math.isfinite(count) or count < 0:
            problems.append(f"{place(line, 'count')}: count '{raw}' must be a number ≥ 0")
        if len(problems) > bad:
            bad_cells.add((street, group))
            continue
        key = (street, group, variable, category)
        first = seen.get(key)
        if first is not None:
            problems.append(
                f"{place(line, 'category')}: {street} / {group} / {variable} {category} "
                f"is given twice (first on line {first})"
            )
            continue
        seen[key] = line
        parsed.append((line, MarginRow(street, group, variable, category, count)))
    if not parsed and not problems:
        raise PopulationError(["line 2: the file has a header but no counts"])
    problems.extend(
        _cell_problems([(n, r) for n, r in parsed if (r.street, r.group) not in bad_cells], place)
    )
    if problems:
        raise PopulationError(problems)
    order = {
        (v, c): i
        for i, (v, c) in enumerate((v, c) for v, cats in FILE_VARIABLES.items() for c in cats)
    }
    cell_order = {
        cell: i for i, cell in enumerate(dict.fromkeys((r.street, r.group) for _, r in parsed))
    }
    rows_sorted = sorted(
        (r for _, r in parsed),
        key=lambda r: (cell_order[(r.street, r.group)], order[(r.variable, r.category)]),
    )
    return Population(rows=tuple(rows_sorted))


def _cell_problems(
    parsed: Iterable[tuple[int, MarginRow]], place: Callable[[int, str], str]
) -> list[str]:
    """Every category present per variable, and equal totals across variables."""
    by_cell: dict[tuple[str, str], dict[str, dict[str, tuple[int, float]]]] = {}
    for line, r in parsed:
        by_cell.setdefault((r.street, r.group), {}).setdefault(r.variable, {})[r.category] = (
            line,
            r.count,
        )
    problems: list[str] = []
    for (street, group), variables in by_cell.items():
        sums: dict[str, tuple[int, float]] = {}
        for variable, cats in variables.items():
            first_line = min(line for line, _ in cats.values())
            missing = [c for c in FILE_VARIABLES[variable] if c not in cats]
            if missing:
                problems.append(
                    f"{place(first_line, 'category')}: {street} / {group} gives {variable} "
                    f"counts but no row for {', '.join(missing)} (give 0 if there is nobody)"
                )
                continue
            sums[variable] = (first_line, math.fsum(c for _, c in cats.values()))
        if "age_band" in sums and "gender" in sums:
            (_, age), (line, gender) = sums["age_band"], sums["gender"]
            if abs(age - gender) > _REL_TOL * max(age, gender, 1.0):
                problems.append(
                    f"{place(line, 'count')}: {street} / {group}: the age_band counts add up to "
                    f"{age:g} but the gender counts to {gender:g}; both describe the same "
                    "people and must add up to the same total"
                )
        if TOTAL in sums:
            line, total = sums[TOTAL]
            for variable in VARIABLES:
                if variable not in sums:
                    continue
                part = sums[variable][1]
                if abs(part - total) > _REL_TOL * max(part, total, 1.0):
                    problems.append(
                        f"{place(line, 'count')}: {street} / {group}: the total is {total:g} "
                        f"but the {variable} counts add up to {part:g}; they describe the "
                        "same people and must agree (or leave the total out)"
                    )
    return problems


# -- writing -------------------------------------------------------------------


def _count_text(count: float) -> str:
    return str(int(count)) if float(count).is_integer() else repr(float(count))


def write_population_csv(population: Population) -> bytes:
    """Return the margins as UTF-8 CSV bytes (with BOM, so Excel shows Chinese)."""
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for r in population.rows:
        writer.writerow([r.street, r.group, r.variable, r.category, _count_text(r.count)])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def write_population_xlsx(population: Population) -> bytes:
    """Return the margins as an .xlsx workbook (one sheet, the CSV's columns)."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("population")
    sheet.append(list(COLUMNS))
    for r in population.rows:
        count: float | int = int(r.count) if float(r.count).is_integer() else r.count
        sheet.append([r.street, r.group, r.variable, r.category, count])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()
