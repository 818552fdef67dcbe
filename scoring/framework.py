"""Evaluation framework: scale, respondent groups, dimensions and indicators.

A framework is read from a TOML file (docs/formats.md) into frozen
dataclasses.  Validation collects every problem at once and reports each as
``file: key: problem`` so that a bureau clerk can fix the whole file in one go.
"""

from __future__ import annotations

import hashlib
import math
import re
import tomllib
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from .problems import Problem

DEFAULT_FRAMEWORK = "gulou-default.toml"
MAX_TEXT_CHARS = 1_000_000  # a framework is a few KB; anything this big is not one
MAX_DEPTH = 5  # document > [[indicators]] list > table > groups list > text
MAX_NUMBER = 1_000_000.0  # weights, shares and scores
MAX_VERSION = 1_000_000
CODE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")
CODE_LENGTH = {"framework": 60, "groups": 20, "dimensions": 20, "indicators": 20}


class FrameworkError(ValueError):
    """A framework file that cannot be used.

    ``found`` lists every reason as a :class:`~scoring.problems.Problem` (a code
    such as ``framework.weights.sum``, its params and the English line);
    ``problems`` is the same list as English lines ``source: key: problem``
    (what the command line prints).  Plain strings are accepted too (code
    ``framework.other``).
    """

    def __init__(self, problems: Sequence[str | Problem]) -> None:
        self.found = [
            p if isinstance(p, Problem) else Problem("framework.other", p) for p in problems
        ]
        self.problems = [p.message for p in self.found]
        super().__init__("\n".join(self.problems))


def _file_problem(source: str, code: str, problem: str, **params: Any) -> Problem:
    """A problem of the whole file (no key): ``source: problem``."""
    return Problem(code, f"{source}: {problem}", {"source": source, "key": "", **params})


@dataclass(frozen=True, slots=True)
class Scale:
    """Answer scale: ``labels[k]`` is point ``k + 1`` (worst first) scored ``scores[k]``."""

    labels: tuple[str, ...]
    scores: tuple[float, ...]
    dont_know: str = "不了解"
    labels_en: tuple[str, ...] = ()
    dont_know_en: str = "Don't know"
    satisfied_from: int = 4

    @property
    def points(self) -> int:
        """Number of scale points K."""
        return len(self.labels)


@dataclass(frozen=True, slots=True)
class Group:
    """Respondent group with its share ``pi_g`` in the street score."""

    code: str
    name: str
    share: float
    name_en: str = ""


@dataclass(frozen=True, slots=True)
class Dimension:
    """Dimension with its weight ``b_k`` in the overall score."""

    code: str
    name: str
    weight: float
    name_en: str = ""


@dataclass(frozen=True, slots=True)
class Indicator:
    """Rated item with its weight ``a_j`` inside its dimension."""

    code: str
    dimension: str
    name: str
    question: str
    weight: float = 1.0
    name_en: str = ""
    question_en: str = ""
    groups: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Framework:
    """A versioned evaluation framework."""

    code: str
    name: str
    version: int
    scale: Scale
    groups: tuple[Group, ...]
    dimensions: tuple[Dimension, ...]
    indicators: tuple[Indicator, ...]
    name_en: str = ""
    source_text: str = field(default="", compare=False, repr=False)
    # the dimensions' AHP pairwise comparison matrix (dimension order), when the
    # weights were derived or checked by AHP: rank sensitivity's ``ahp`` scheme
    ahp: tuple[tuple[float, ...], ...] | None = None

    @property
    def indicator_codes(self) -> tuple[str, ...]:
        return tuple(i.code for i in self.indicators)

    @property
    def group_codes(self) -> tuple[str, ...]:
        return tuple(g.code for g in self.groups)

    @property
    def dimension_codes(self) -> tuple[str, ...]:
        return tuple(d.code for d in self.dimensions)

    def indicator(self, code: str) -> Indicator:
        for ind in self.indicators:
            if ind.code == code:
                return ind
        raise KeyError(code)

    def group(self, code: str) -> Group:
        for grp in self.groups:
            if grp.code == code:
                return grp
        raise KeyError(code)

    def indicators_for(self, group: str) -> tuple[Indicator, ...]:
        """Indicators asked of ``group`` (all when an indicator names no groups)."""
        return tuple(i for i in self.indicators if not i.groups or group in i.groups)

    def indicators_in(self, dimension: str) -> tuple[Indicator, ...]:
        return tuple(i for i in self.indicators if i.dimension == dimension)

    @property
    def sha256(self) -> str:
        """Digest of the canonical TOML text, recorded by scoring runs."""
        return hashlib.sha256(dump_framework(self).encode("utf-8")).hexdigest()


def default_framework_text() -> str:
    """Return the TOML text of the shipped default framework."""
    return resources.files("scoring").joinpath("data", DEFAULT_FRAMEWORK).read_text("utf-8")


def load_default_framework() -> Framework:
    """Load the shipped default 4 x 17 framework."""
    return parse_framework(default_framework_text(), source=DEFAULT_FRAMEWORK)


def load_framework(path: str | Path) -> Framework:
    """Read and validate a framework TOML file.

    :raises FrameworkError: listing every problem as ``file: key: problem``.
    """
    path = Path(path)
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        raise FrameworkError(
            [_file_problem(path.name, "framework.file.not_found", "file not found")]
        ) from None
    except UnicodeDecodeError:
        raise FrameworkError(
            [_file_problem(path.name, "framework.file.not_utf8", "the file is not UTF-8 text")]
        ) from None
    return parse_framework(text, source=path.name)


def parse_framework(text: str, source: str = "framework.toml") -> Framework:
    """Parse and validate framework TOML text; see :func:`load_framework`."""
    if len(text) > MAX_TEXT_CHARS:
        raise FrameworkError(
            [
                _file_problem(
                    source,
                    "framework.file.too_long",
                    f"the file has {len(text)} characters; at most {MAX_TEXT_CHARS}",
                    chars=len(text),
                    max=MAX_TEXT_CHARS,
                )
            ]
        )
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise FrameworkError(
            [
                _file_problem(
                    source, "framework.file.toml", f"not valid TOML: {exc}", detail=str(exc)
                )
            ]
        ) from None
    except RecursionError:
        raise FrameworkError(
            [_file_problem(source, "framework.file.too_deep", "the TOML is nested too deeply")]
        ) from None
    deep = _too_deep(data)
    if deep is not None:
        raise FrameworkError(
            [
                Problem(
                    "framework.too_deep",
                    f"{source}: {deep}: nested deeper than {MAX_DEPTH} levels",
                    {"source": source, "key": deep, "max": MAX_DEPTH},
                )
            ]
        )
    return _Builder(source).build(data, text)


def _too_deep(data: Mapping[str, Any]) -> str | None:
    """The key of the first value nested deeper than :data:`MAX_DEPTH` (None if none)."""
    todo: list[tuple[Any, str, int]] = [(data, "", 1)]
    while todo:
        value, key, depth = todo.pop()
        if depth > MAX_DEPTH:
            return key or "document"
        if isinstance(value, dict):
            todo.extend((v, f"{key}.{k}" if key else str(k), depth + 1) for k, v in value.items())
        elif isinstance(value, list):
            todo.extend((v, f"{key}[{n}]", depth + 1) for n, v in enumerate(value))
    return None


def _control(value: str) -> bool:
    """True if ``value`` holds a control character other than newline and tab."""
    return any(unicodedata.category(c) == "Cc" and c not in "\n\t" for c in value)


class _Builder:
    """Validate a parsed TOML document, collecting every problem."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[Problem] = []

    def fail(self, key: str, code: str, problem: str, **params: Any) -> None:
        """Record ``problem`` (English) at ``key`` under ``code`` with ``params``."""
        self.problems.append(
            Problem(
                f"framework.{code}",
                f"{self.source}: {key}: {problem}",
                {"source": self.source, "key": key, **params},
            )
        )

    def text(self, table: Mapping[str, Any], key: str, where: str, required: bool = True) -> str:
        value = table.get(key)
        if value is None:
            if required:
                self.fail(f"{where}.{key}", "missing", "is missing")
            return ""
        if not isinstance(value, str) or (required and not value.strip()):
            self.fail(f"{where}.{key}", "text.empty", "must be a non-empty text")
            return ""
        if _control(value):
            self.fail(f"{where}.{key}", "text.control", "contains a control character (such as CR)")
            return ""
        return value.strip()

    def code(self, table: Mapping[str, Any], where: str, kind: str) -> str:
        value = self.text(table, "code", where)
        limit = CODE_LENGTH[kind]
        if value and (not CODE_RE.fullmatch(value) or len(value) > limit):
            self.fail(
                f"{where}.code",
                "code.format",
                f"{value!r} must be letters, digits and hyphens (starting with a letter or "
                f"digit), at most {limit} characters",
                value=value,
                limit=limit,
            )
            return ""
        return value

    def number(
        self, table: Mapping[str, Any], key: str, where: str, default: float | None = None
    ) -> float:
        item = table.get("code") if isinstance(table.get("code"), str) else None
        value = table.get(key, default)
        if value is None:
            self.fail(f"{where}.{key}", "missing", "is missing")
            return math.nan
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(
                f"{where}.{key}",
                "number.type",
                f"must be a number, not {value!r}",
                value=repr(value),
                item=item,
            )
            return math.nan
        if not math.isfinite(value) or value <= 0:
            self.fail(
                f"{where}.{key}",
                "number.positive",
                f"must be positive, not {value!r}",
                value=repr(value),
                item=item,
            )
            return math.nan
        if value > MAX_NUMBER:
            self.fail(
                f"{where}.{key}",
                "number.max",
                f"must be at most {MAX_NUMBER:g}, not {value!r}",
                value=repr(value),
                max=f"{MAX_NUMBER:g}",
                item=item,
            )
            return math.nan
        return float(value)

    def tables(self, data: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
        value = data.get(key)
        if value is None:
            self.fail(key, "tables.missing", f"is missing: add at least one [[{key}]] table")
            return []
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.fail(key, "tables.type", f"must be a list of [[{key}]] tables")
            return []
        if not value:
            self.fail(key, "tables.empty", f"is empty: add at least one [[{key}]] table")
        return value

    def unique(self, codes: list[str], where: str) -> None:
        seen: set[str] = set()
        for n, code in enumerate(codes):
            if code and code in seen:
                self.fail(
                    f"{where}[{n}].code", "code.duplicate", f"duplicate code {code!r}", value=code
                )
            seen.add(code)

    def build(self, data: Mapping[str, Any], text: str) -> Framework:
        head = data.get("framework")
        if not isinstance(head, dict):
            self.fail(
                "framework",
                "head.missing",
                "is missing: add a [framework] table with code, name, version",
            )
            head = {}
        code = self.code(head, "framework", "framework")
        name = self.text(head, "name", "framework")
        version = head.get("version", 1)
        if (
            isinstance(version, bool)
            or not isinstance(version, int)
            or not 1 <= version <= MAX_VERSION
        ):
            self.fail(
                "framework.version",
                "version",
                f"must be a whole number >= 1 and <= {MAX_VERSION}, not {version!r}",
                value=repr(version),
                max=MAX_VERSION,
            )
            version = 1
        scale = self.scale(data.get("scale"))
        groups = self.groups(data)
        dimensions = self.dimensions(data)
        indicators = self.indicators(data, dimensions, groups)
        ahp = self.ahp(data.get("ahp"), dimensions)
        if self.problems:
            raise FrameworkError(self.problems)
        return Framework(
            code=code,
            name=name,
            version=version,
            scale=scale,
            groups=groups,
            dimensions=dimensions,
            indicators=indicators,
            name_en=str(head.get("name_en", "")),
            source_text=text,
            ahp=ahp,
        )

    def ahp(
        self, table: Any, dimensions: tuple[Dimension, ...]
    ) -> tuple[tuple[float, ...], ...] | None:
        """Optional ``[ahp] dimensions = [[...], ...]``: a consistent K x K pairwise matrix."""
        if table is None:
            return None
        if not isinstance(table, dict) or set(table) != {"dimensions"}:
            self.fail("ahp", "must be a table with one key, dimensions (the pairwise matrix)")
            return None
        rows = table["dimensions"]
        k = len(dimensions)
        if (
            not isinstance(rows, list)
            or len(rows) != k
            or not all(isinstance(r, list) and len(r) == k for r in rows)
            or not all(
                isinstance(v, int | float) and not isinstance(v, bool) for r in rows for v in r
            )
        ):
            self.fail(
                "ahp.dimensions",
                f"must be a {k} x {k} matrix of numbers (one row per dimension, in order)",
            )
            return None
        from .weights import ahp_weights  # local: weights imports the data modules

        try:
            ahp_weights(rows, [d.code for d in dimensions])
        except ValueError as exc:
            self.fail("ahp.dimensions", str(exc))
            return None
        return tuple(tuple(float(v) for v in r) for r in rows)

    def scale(self, table: Any) -> Scale:
        if not isinstance(table, dict):
            self.fail(
                "scale", "scale.missing", "is missing: add a [scale] table with labels and scores"
            )
            return Scale(labels=(), scores=())
        labels = table.get("labels")
        scores = table.get("scores")
        if not isinstance(labels, list) or not all(
            isinstance(x, str) and x and not _control(x) for x in labels
        ):
            self.fail("scale.labels", "scale.labels", "must be a list of texts, worst answer first")
            labels = []
        if not isinstance(scores, list) or not all(
            isinstance(x, int | float)
            and not isinstance(x, bool)
            and math.isfinite(x)
            and abs(x) <= MAX_NUMBER
            for x in scores
        ):
            self.fail(
                "scale.scores",
                "scale.scores",
                f"must be a list of numbers from {-MAX_NUMBER:g} to {MAX_NUMBER:g}, one per label",
                min=f"{-MAX_NUMBER:g}",
                max=f"{MAX_NUMBER:g}",
            )
            scores = []
        if labels and len(labels) < 2:
            self.fail("scale.labels", "scale.points", "needs at least 2 points")
        if labels and len(set(labels)) != len(labels):
            self.fail("scale.labels", "scale.labels_unique", "labels must differ from each other")
        if labels and scores and len(labels) != len(scores):
            self.fail(
                "scale.scores",
                "scale.count",
                f"has {len(scores)} scores for {len(labels)} labels: give one each",
                scores=len(scores),
                labels=len(labels),
            )
        elif scores and any(b <= a for a, b in zip(scores, scores[1:], strict=False)):
            self.fail(
                "scale.scores",
                "scale.increase",
                "must increase strictly from the worst to the best answer",
            )
        labels_en = table.get("labels_en", [])
        if labels_en and (not isinstance(labels_en, list) or len(labels_en) != len(labels)):
            self.fail("scale.labels_en", "scale.labels_en", "must have one English label per label")
            labels_en = []
        dont_know = self.text(table, "dont_know", "scale")
        if dont_know and dont_know in labels:
            self.fail(
                "scale.dont_know",
                "scale.dont_know",
                f"{dont_know!r} is also a scale label",
                value=dont_know,
            )
        satisfied_from = table.get("satisfied_from", max(len(labels) - 1, 1))
        if (
            isinstance(satisfied_from, bool)
            or not isinstance(satisfied_from, int)
            or not 1 <= satisfied_from <= max(len(labels), 1)
        ):
            self.fail(
                "scale.satisfied_from",
                "scale.satisfied_from",
                f"must be a scale point from 1 to {len(labels)}",
                max=len(labels),
            )
            satisfied_from = max(len(labels) - 1, 1)
        return Scale(
            labels=tuple(labels),
            scores=tuple(float(s) for s in scores),
            dont_know=dont_know,
            labels_en=tuple(str(x) for x in labels_en),
            dont_know_en=str(table.get("dont_know_en", "Don't know")),
            satisfied_from=satisfied_from,
        )

    def groups(self, data: Mapping[str, Any]) -> tuple[Group, ...]:
        out = []
        for n, t in enumerate(self.tables(data, "groups")):
            where = f"groups[{n}]"
            out.append(
                Group(
                    code=self.code(t, where, "groups"),
                    name=self.text(t, "name", where),
                    share=self.number(t, "share", where),
                    name_en=str(t.get("name_en", "")),
                )
            )
        self.unique([g.code for g in out], "groups")
        return tuple(out)

    def dimensions(self, data: Mapping[str, Any]) -> tuple[Dimension, ...]:
        out = []
        for n, t in enumerate(self.tables(data, "dimensions")):
            where = f"dimensions[{n}]"
            out.append(
                Dimension(
                    code=self.code(t, where, "dimensions"),
                    name=self.text(t, "name", where),
                    weight=self.number(t, "weight", where),
                    name_en=str(t.get("name_en", "")),
                )
            )
        self.unique([d.code for d in out], "dimensions")
        total = sum(d.weight for d in out)
        if out and math.isfinite(total) and abs(total - 1.0) > 1e-6:
            self.fail(
                "dimensions",
                "weights.sum",
                f"weights add up to {total:g}, they must add up to 1",
                total=f"{total:g}",
            )
        return tuple(out)

    def indicators(
        self,
        data: Mapping[str, Any],
        dimensions: Sequence[Dimension],
        groups: Sequence[Group],
    ) -> tuple[Indicator, ...]:
        dim_codes = {d.code for d in dimensions}
        group_codes = {g.code for g in groups}
        out = []
        for n, t in enumerate(self.tables(data, "indicators")):
            where = f"indicators[{n}]"
            dim = self.text(t, "dimension", where)
            if dim and dim_codes and dim not in dim_codes:
                self.fail(
                    f"{where}.dimension",
                    "indicator.dimension",
                    f"unknown dimension {dim!r}",
                    value=dim,
                )
            asked = t.get("groups", [])
            if not isinstance(asked, list) or not all(isinstance(g, str) for g in asked):
                self.fail(
                    f"{where}.groups", "indicator.groups_type", "must be a list of group codes"
                )
                asked = []
            for g in asked:
                if g not in group_codes:
                    self.fail(f"{where}.groups", "indicator.group", f"unknown group {g!r}", value=g)
            out.append(
                Indicator(
                    code=self.code(t, where, "indicators"),
                    dimension=dim,
                    name=self.text(t, "name", where),
                    question=self.text(t, "question", where),
                    weight=self.number(t, "weight", where, default=1.0),
                    name_en=str(t.get("name_en", "")),
                    question_en=str(t.get("question_en", "")),
                    groups=tuple(asked),
                )
            )
        self.unique([i.code for i in out], "indicators")
        for d in dimensions:
            if d.code and not any(i.dimension == d.code for i in out):
                self.fail(f"dimensions.{d.code}", "dimension.empty", "has no indicators")
        for g in groups:
            if g.code and out and not any(not i.groups or g.code in i.groups for i in out):
                self.fail(f"groups.{g.code}", "group.unasked", "is asked no indicator")
        return tuple(out)


def _toml_str(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _toml_num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def dump_framework(fw: Framework) -> str:
    """Write ``fw`` as canonical TOML that :func:`parse_framework` reads back equal."""
    s = fw.scale
    lines = [
        "[framework]",
        f"code = {_toml_str(fw.code)}",
        f"name = {_toml_str(fw.name)}",
        f"name_en = {_toml_str(fw.name_en)}",
        f"version = {fw.version}",
        "",
        "[scale]",
        "labels = [" + ", ".join(_toml_str(x) for x in s.labels) + "]",
        "labels_en = [" + ", ".join(_toml_str(x) for x in s.labels_en) + "]",
        "scores = [" + ", ".join(_toml_num(x) for x in s.scores) + "]",
        f"dont_know = {_toml_str(s.dont_know)}",
        f"dont_know_en = {_toml_str(s.dont_know_en)}",
        f"satisfied_from = {s.satisfied_from}",
    ]
    for g in fw.groups:
        lines += ["", "[[groups]]", f"code = {_toml_str(g.code)}", f"name = {_toml_str(g.name)}"]
        lines += [f"name_en = {_toml_str(g.name_en)}", f"share = {_toml_num(g.share)}"]
    for d in fw.dimensions:
        lines += [
            "",
            "[[dimensions]]",
            f"code = {_toml_str(d.code)}",
            f"name = {_toml_str(d.name)}",
        ]
        lines += [f"name_en = {_toml_str(d.name_en)}", f"weight = {_toml_num(d.weight)}"]
    for i in fw.indicators:
        lines += [
            "",
            "[[indicators]]",
            f"code = {_toml_str(i.code)}",
            f"dimension = {_toml_str(i.dimension)}",
            f"name = {_toml_str(i.name)}",
            f"name_en = {_toml_str(i.name_en)}",
            f"question = {_toml_str(i.question)}",
            f"question_en = {_toml_str(i.question_en)}",
            f"weight = {_toml_num(i.weight)}",
        ]
        if i.groups:
            lines.append("groups = [" + ", ".join(_toml_str(g) for g in i.groups) + "]")
    if fw.ahp is not None:
        lines += ["", "[ahp]", "dimensions = ["]
        lines += ["  [" + ", ".join(_toml_num(v) for v in row) + "]," for row in fw.ahp]
        lines.append("]")
    return "\n".join(lines) + "\n"
