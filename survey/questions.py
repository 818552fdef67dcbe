"""The fixed questions of the resident questionnaire, declared once.

The indicator questions come from the framework (``scoring.framework``); the
questions every questionnaire ends with are declared here: the concerns, the
overall satisfaction, the free comment and the three "about you" questions.
One :class:`Question` says everything the application needs about one of them:

- its ``code``: the form field, the key in a draft's ``final`` answers and the
  column name of the exchange format (:mod:`scoring.exchange`);
- its ``label`` (the short topic shown on the final page, the review page and
  in error summaries) and ``prompt`` (the full question), lazily translated;
- its ``choices`` (code and label) or its ``limit`` (most concerns, most
  characters of a comment), which :func:`survey.services.questionnaire.parse_page`
  validates;
- the ``column`` of :class:`survey.models.Response` it is stored in and how a
  draft's value becomes that column's value (:meth:`Question.stored`);
- the ``export_label`` of its variable in the SPSS export.

Adding an "about you" question means one more :class:`Question` in
:data:`ABOUT_YOU`, a nullable ``Response`` column with its Alembic revision,
and the same column in the exchange format (``scoring.ingest.DEMOGRAPHICS``,
which the pure scoring package keeps for itself; a test checks both agree).
See docs/architecture.md, "Where to change what".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

DK = "DK"  # the 不了解 answer of a scale question, as posted and kept in drafts

Kind = Literal["concerns", "scale", "text", "choice"]

_MOST_CONCERNS = 3


@dataclass(frozen=True, slots=True)
class Choice:
    """One answer of a choice question: the stored ``code`` and its shown ``label``."""

    code: str
    label: LazyString


@dataclass(frozen=True, slots=True)
class Question:
    """One fixed question (see the module docstring).

    ``kind`` decides the widget and the validation: ``concerns`` (indicator
    codes of the respondent's questionnaire, at most ``limit``), ``scale`` (a
    point of the framework's scale or ``DK``), ``text`` (at most ``limit``
    characters) or ``choice`` (one of ``choices``, or nothing).
    """

    code: str
    kind: Kind
    label: LazyString
    column: str
    prompt: LazyString | None = None
    choices: tuple[Choice, ...] = ()
    limit: int = 0
    required: bool = False
    export_label: str = ""

    @property
    def codes(self) -> tuple[str, ...]:
        """The codes of ``choices``, in the order they are shown."""
        return tuple(c.code for c in self.choices)

    def stored(self, value: object) -> object:
        """The ``Response`` column value of a draft's answer ``value``.

        Concerns are stored as codes joined by ``;``; a scale answer as its
        point (``DK`` and no answer as NULL); a text as itself (``""`` when
        empty); a choice as its code (NULL when not answered).
        """
        if self.kind == "concerns":
            return ";".join(value if isinstance(value, list | tuple) else [])
        if self.kind == "scale":
            return int(str(value)) if value not in (None, "", DK) else None
        if self.kind == "text":
            return value if isinstance(value, str) else ""
        return value or None


CONCERNS = Question(
    code="concerns",
    kind="concerns",
    label=_l("最关注的问题"),
    prompt=_l("下面哪些事您最希望街道改进？最多选%(n)s项，可以不选。", n=_MOST_CONCERNS),
    column="concerns",
    limit=_MOST_CONCERNS,
    export_label="最关注的问题（指标代码）",
)
OVERALL = Question(
    code="overall",
    kind="scale",
    label=_l("总体满意度"),
    prompt=_l("总的来说，您对本街道的工作是否满意？"),
    column="overall",
    required=True,
    export_label="总体满意度",
)
COMMENT = Question(
    code="comment",
    kind="text",
    label=_l("其他意见和建议"),
    prompt=_l("其他意见和建议（可不填）"),
    column="comment",
    limit=2000,
    export_label="意见建议",
)
AGE_BAND = Question(
    code="age_band",
    kind="choice",
    label=_l("您的年龄"),
    column="age_band",
    choices=(
        Choice("18-34", _l("18–34岁")),
        Choice("35-59", _l("35–59岁")),
        Choice("60-69", _l("60–69岁")),
        Choice("70-79", _l("70–79岁")),
        Choice("80+", _l("80岁及以上")),
    ),
)
GENDER = Question(
    code="gender",
    kind="choice",
    label=_l("您的性别"),
    column="gender",
    choices=(
        Choice("female", _l("女")),
        Choice("male", _l("男")),
        Choice("undisclosed", _l("不愿回答")),
    ),
)
RESIDENCE_YEARS = Question(
    code="residence_years",
    kind="choice",
    label=_l("您在本街道住了多久"),
    column="residence_years",
    choices=(
        Choice("lt1", _l("不到1年")),
        Choice("1-5", _l("1–5年")),
        Choice("5-10", _l("5–10年")),
        Choice("10+", _l("10年以上")),
    ),
)

#: the "about you" questions, all optional, in the order the final page asks them
ABOUT_YOU: tuple[Question, ...] = (AGE_BAND, GENDER, RESIDENCE_YEARS)
#: every fixed question, in the order of the final page
FIXED: tuple[Question, ...] = (CONCERNS, OVERALL, COMMENT, *ABOUT_YOU)
#: the most characters of the comment under one indicator answer (not a fixed question)
MAX_ANSWER_COMMENT = 500
