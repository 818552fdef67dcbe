"""Agency forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired, FileSize
from wtforms import BooleanField, HiddenField, IntegerField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice as C
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from ..services.invitations import MAX_BATCH

MAX_IMPORT_MB = 5


class ActionForm(FlaskForm):
    """A button that changes something: CSRF only."""


class StreetPickForm(FlaskForm):
    """Step 1 of 发放邀请码: the street (GET), so step 2 lists only its communities."""

    class Meta:
        csrf = False

    street = SelectField(_l("街道"), coerce=int, validators=[InputRequired()])


class BatchForm(FlaskForm):
    request_key = HiddenField()
    street = SelectField(_l("街道"), coerce=int, validators=[InputRequired()])
    group = SelectField(_l("受访群体"), validators=[InputRequired()])
    # checked in the view against the chosen street, with a message in the reader's language
    community = SelectField(_l("社区（可不选）"), coerce=int, default=0, validate_choice=False)
    count = IntegerField(
        _l("数量"),
        default=50,
        validators=[
            InputRequired(_l("请填写数量。")),
            NumberRange(1, MAX_BATCH, _l("数量须在 1 到 %(max)s 之间。", max=MAX_BATCH)),
        ],
    )
    is_open = BooleanField(_l("公开二维码（张贴用，可多人使用，每台设备限填）"))
    output = RadioField(
        _l("链接只显示这一次，请选择保存方式"),
        choices=[
            C("pdf", _l("A4 二维码打印页（PDF）")),
            C("csv", _l("CSV 表格（token,url,code）")),
            C("screen", _l("在页面上显示")),
        ],
        default="pdf",
    )


class OutputForm(FlaskForm):
    output = RadioField(
        _l("新链接的保存方式"),
        choices=[C("pdf", _l("PDF")), C("csv", _l("CSV")), C("screen", _l("页面"))],
        default="csv",
    )


class TokenForm(FlaskForm):
    token = StringField(
        _l("邀请码或链接"), validators=[DataRequired(_l("请粘贴邀请码或链接。")), Length(max=300)]
    )
    action = RadioField(
        _l("操作"),
        choices=[C("revoke", _l("作废")), C("reissue", _l("作废并补发一个新的"))],
        default="revoke",
    )


class ImportForm(FlaskForm):
    file = FileField(
        _l("答卷文件（CSV 或 Excel .xlsx）"),
        validators=[
            FileRequired(_l("请选择文件。")),
            FileAllowed(["csv", "xlsx"], _l("只接受 .csv 或 .xlsx 文件。")),
            FileSize(
                MAX_IMPORT_MB * 1024 * 1024,
                message=_l("文件不能超过 %(n)s MB。", n=MAX_IMPORT_MB),
            ),
        ],
    )


class InterviewForm(FlaskForm):
    wave = SelectField(_l("测评批次"), coerce=int, validators=[InputRequired()])
    street = SelectField(_l("街道"), coerce=int, validators=[InputRequired()])
    group = SelectField(_l("受访群体"), validators=[InputRequired()])
    community = SelectField(_l("社区（可不选）"), coerce=int, default=0)
    channel = RadioField(
        _l("访问方式"),
        choices=[C("phone", _l("电话访问")), C("face", _l("面对面访问"))],
        default="face",
        validators=[InputRequired()],
    )
