"""Forms of the street portal (CSRF from Flask-WTF)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

REQUIRED = _l("请填写此项。")


class ConfirmForm(FlaskForm):
    """A button-only form (CSRF token)."""


class PlanForm(FlaskForm):
    measures = TextAreaField(_l("整改措施"), validators=[DataRequired(REQUIRED), Length(max=4000)])
    responsible_unit = StringField(
        _l("责任单位"), validators=[DataRequired(REQUIRED), Length(max=120)]
    )
    responsible_person = StringField(
        _l("责任人"), validators=[DataRequired(REQUIRED), Length(max=60)]
    )
    planned_date = DateField(
        _l("计划完成日期"), validators=[DataRequired(_l("请填写日期，格式如 2026-05-10。"))]
    )


class ProgressForm(FlaskForm):
    note = TextAreaField(_l("进展情况"), validators=[DataRequired(REQUIRED), Length(max=4000)])


class EvidenceForm(FlaskForm):
    """Up to three files at once, each with what it shows."""

    file = FileField(_l("文件 1"), validators=[FileRequired(_l("请选择要上传的文件。"))])
    caption = StringField(_l("文件 1 的说明（可不填）"), validators=[Optional(), Length(max=200)])
    file2 = FileField(_l("文件 2（可不选）"))
    caption2 = StringField(_l("文件 2 的说明（可不填）"), validators=[Optional(), Length(max=200)])
    file3 = FileField(_l("文件 3（可不选）"))
    caption3 = StringField(_l("文件 3 的说明（可不填）"), validators=[Optional(), Length(max=200)])

    def pairs(self) -> list[tuple[Any, str]]:
        """``(file field, caption)`` of every slot with a file chosen."""
        slots = (
            (self.file, self.caption),
            (self.file2, self.caption2),
            (self.file3, self.caption3),
        )
        return [(f, c.data or "") for f, c in slots if f.data and getattr(f.data, "filename", "")]


class SubmitForm(FlaskForm):
    result = TextAreaField(_l("整改成效"), validators=[DataRequired(REQUIRED), Length(max=4000)])
