"""Forms of the bureau console (CSRF from Flask-WTF; dynamic grids built per wave/framework)."""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from werkzeug.datastructures import MultiDict
from wtforms import (
    BooleanField,
    DateField,
    FloatField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice as C
from wtforms.validators import (
    AnyOf,
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
)

from scoring.framework import Framework as FrameworkSpec
from scoring.settings import BOOT_RANGE, DEFAULTS, MIN_N_RANGE, SEED_RANGE, TOP_K_RANGE

from ..models import ROLE_NAMES, RespondentGroup, Street, Wave
from ..services.problem_text import TEXTS as PROBLEM_TEXTS


class ConfirmForm(FlaskForm):
    """A button-only form (CSRF token)."""


class UserForm(FlaskForm):
    username = StringField(_l("用户名"), validators=[DataRequired(), Length(min=2, max=60)])
    role = SelectField(_l("角色"), choices=[C(k, _l(v)) for k, v in ROLE_NAMES.items()])
    street = SelectField(_l("所属街道（街道工作人员必填）"), coerce=int, choices=[])
    # Checked in the view against the districts the admin may see (0 = every district).
    district = SelectField(
        _l("所属区（市级账号可见全部区）"), coerce=int, choices=[], default=0, validate_choice=False
    )
    password = PasswordField(_l("初始密码"), validators=[DataRequired(), Length(max=200)])


class RoleForm(FlaskForm):
    role = SelectField(_l("角色"), choices=[C(k, _l(v)) for k, v in ROLE_NAMES.items()])
    street = SelectField(_l("所属街道（街道工作人员必填）"), coerce=int, choices=[])


class PasswordForm(FlaskForm):
    password = PasswordField(_l("新密码"), validators=[DataRequired(), Length(max=200)])


class OwnPasswordForm(FlaskForm):
    current = PasswordField(_l("当前密码"), validators=[DataRequired(), Length(max=200)])
    password = PasswordField(_l("新密码"), validators=[DataRequired(), Length(max=200)])


class TokenForm(FlaskForm):
    action = HiddenField(validators=[AnyOf(["issue", "revoke"])])


class WaveForm(FlaskForm):
    code = StringField(
        _l("批次代码（字母、数字、连字符）"),
        validators=[
            DataRequired(),
            Length(max=60),
            Regexp(
                r"^[A-Za-z0-9][A-Za-z0-9-]*\Z",
                message=_l("测评批次代码只能由字母、数字和连字符组成（以字母或数字开头）。"),
            ),
        ],
    )
    name = StringField(_l("批次名称"), validators=[DataRequired(), Length(max=120)])
    framework = SelectField(_l("指标体系版本"), coerce=int, choices=[])
    starts_on = DateField(_l("开始日期"), validators=[Optional()])
    ends_on = DateField(_l("结束日期"), validators=[Optional()])
    allow_open_links = BooleanField(_l("允许公开二维码链接（可重复使用）"))
    min_n = IntegerField(
        _l("每格最小样本量 min_n"),
        default=DEFAULTS.min_n,
        validators=[
            InputRequired(),
            NumberRange(*MIN_N_RANGE, PROBLEM_TEXTS["settings.min_n.range"]),
        ],
    )


class ScoreForm(FlaskForm):
    boot = IntegerField(
        _l("重复抽样次数（默认1000，一般无需修改）"),
        default=DEFAULTS.boot,
        validators=[
            InputRequired(_l("请填写重复抽样次数。")),
            NumberRange(*BOOT_RANGE, PROBLEM_TEXTS["settings.boot.range"]),
        ],
    )
    seed = IntegerField(
        _l("随机数起点（记录下来可以重算出完全相同的结果，一般无需修改）"),
        default=DEFAULTS.seed,
        validators=[
            InputRequired(_l("请填写随机数起点。")),
            NumberRange(*SEED_RANGE, PROBLEM_TEXTS["settings.seed.range"]),
        ],
    )
    min_n = IntegerField(
        _l("每个街道每类人群至少几份答卷才单独计算（默认30）"),
        default=DEFAULTS.min_n,
        validators=[
            InputRequired(_l("请填写最少答卷数。")),
            NumberRange(*MIN_N_RANGE, PROBLEM_TEXTS["settings.min_n.range"]),
        ],
    )
    exclude_flagged = BooleanField(_l("排除质量标记的答卷（未经复核的）"), default=True)
    include_open_channel = BooleanField(_l("计入公开二维码渠道的答卷"), default=True)
    weighting = SelectField(
        _l("加权方式"),
        choices=[
            C("imported", _l("使用答卷自带的权重")),
            C("raked", _l("按人口数加权（年龄段、性别 raking）")),
            C("unweighted", _l("不加权（每份答卷权重相同）")),
        ],
        default="imported",
        validators=[AnyOf(["imported", "raked", "unweighted"])],
    )


class ContactForm(FlaskForm):
    """Who residents can call to check an invitation is genuine (shown to them and on cards)."""

    agency_name = StringField(
        _l("调查机构名称"), validators=[Optional(), Length(max=120, message=_l("最多120个字。"))]
    )
    hotline = StringField(
        _l("核实电话"),
        validators=[
            Optional(),
            Length(max=40, message=_l("最多40个字符。")),
            Regexp(r"^[0-9 +()\-－转]*$", message=_l("只能填写数字、空格、横线、括号和“转”。")),
        ],
    )


class ExclusionForm(FlaskForm):
    action = HiddenField(validators=[AnyOf(["exclude", "restore"])])
    reason = StringField(_l("理由"), validators=[DataRequired(), Length(min=2, max=500)])


class FrameworkImportForm(FlaskForm):
    file = FileField(
        _l("指标体系文件（.toml）"),
        validators=[FileRequired(), FileAllowed(["toml"], _l("请上传 .toml 文件"))],
    )


class NoteForm(FlaskForm):
    note = TextAreaField(_l("备注"), validators=[Optional(), Length(max=500)])


def framework_form(spec: FrameworkSpec, formdata: MultiDict[str, str] | None = None) -> FlaskForm:
    """An editor form with one field per text, share and weight of ``spec``."""

    class FrameworkForm(FlaskForm):
        name = StringField(
            _l("指标体系名称"), default=spec.name, validators=[DataRequired(), Length(max=200)]
        )

    for d in spec.dimensions:
        setattr(
            FrameworkForm,
            f"dim_w_{d.code}",
            FloatField(f"{d.code} {d.name}", default=d.weight, validators=[InputRequired()]),
        )
    for g in spec.groups:
        setattr(
            FrameworkForm,
            f"grp_name_{g.code}",
            StringField(g.code, default=g.name, validators=[DataRequired(), Length(max=80)]),
        )
        setattr(
            FrameworkForm,
            f"grp_share_{g.code}",
            FloatField(g.code, default=g.share, validators=[InputRequired()]),
        )
    for i in spec.indicators:
        setattr(
            FrameworkForm,
            f"ind_name_{i.code}",
            StringField(i.code, default=i.name, validators=[DataRequired(), Length(max=80)]),
        )
        setattr(
            FrameworkForm,
            f"ind_q_{i.code}",
            StringField(i.code, default=i.question, validators=[DataRequired(), Length(max=500)]),
        )
        setattr(
            FrameworkForm,
            f"ind_w_{i.code}",
            FloatField(i.code, default=i.weight, validators=[InputRequired()]),
        )
    return FrameworkForm(formdata=formdata) if formdata is not None else FrameworkForm()


def ahp_form(n: int, defaults: dict[tuple[int, int], str] | None = None) -> FlaskForm:
    """A pairwise-comparison form: one text field per upper-triangle cell ``a_i_j``."""

    class AHPForm(FlaskForm):
        do = HiddenField(default="compute")

    for i in range(n):
        for j in range(i + 1, n):
            setattr(
                AHPForm,
                f"a_{i}_{j}",
                StringField(
                    f"{i + 1}-{j + 1}",
                    default=(defaults or {}).get((i, j), "1"),
                    validators=[DataRequired(), Length(max=12)],
                ),
            )
    return AHPForm()


def quota_form(
    wave: Wave, streets: Sequence[Street], groups: Sequence[RespondentGroup]
) -> FlaskForm:
    """One whole-number field per street x group, prefilled with the current targets."""
    current = {(q.street_id, q.group_code): q.target for q in wave.quotas}

    class QuotaForm(FlaskForm):
        pass

    for s in streets:
        for g in groups:
            setattr(
                QuotaForm,
                f"q_{s.id}_{g.code}",
                IntegerField(
                    f"{s.name} {g.name}",
                    default=current.get((s.id, g.code), 0),
                    validators=[Optional(), NumberRange(0, 100000)],
                ),
            )
    return QuotaForm()


class IssueForm(FlaskForm):
    """Issue date and deadline of a wave's notices."""

    issue_date = DateField(_l("成文日期"), validators=[DataRequired()])
    days = IntegerField(
        _l("整改期限（工作日）"), validators=[InputRequired(), NumberRange(min=1, max=365)]
    )


class CalendarYearForm(FlaskForm):
    """A year of official holidays from the State Council notice."""

    year = IntegerField(_l("年份"), validators=[InputRequired(), NumberRange(min=2000, max=2100)])
    holidays = TextAreaField(
        _l("放假日期（含调休形成的连休周末），如 2027-01-01, 2027-02-06..2027-02-13"),
        validators=[DataRequired(), Length(max=4000)],
    )
    workdays = TextAreaField(_l("调休上班日期（周六或周日）"), validators=[Length(max=2000)])


class DocumentSettingsForm(FlaskForm):
    """Letterhead, doc numbers and deadline of the bureau's notices."""

    authority = StringField(
        _l("发文机关（如：南京市鼓楼区民政局）"), validators=[DataRequired(), Length(max=120)]
    )
    doc_prefix = StringField(
        _l("发文字号代字（如：鼓民整）"), validators=[DataRequired(), Length(max=20)]
    )
    reply_address = TextAreaField(_l("整改报告报送地址和联系方式"), validators=[Length(max=500)])
    deadline_days = IntegerField(
        _l("整改期限（工作日）"), validators=[InputRequired(), NumberRange(min=1, max=365)]
    )
    top_k = IntegerField(
        _l("每个街道的整改事项数"),
        validators=[
            InputRequired(),
            NumberRange(*TOP_K_RANGE, PROBLEM_TEXTS["settings.top_k.range"]),
        ],
    )


class PopulationImportForm(FlaskForm):
    file = FileField(
        _l("人口数文件（CSV 或 Excel .xlsx）"),
        validators=[
            FileRequired(_l("请选择文件。")),
            FileAllowed(["csv", "xlsx"], _l("只接受 .csv 或 .xlsx 文件。")),
        ],
    )
    note = StringField(_l("数据来源（可选）"), validators=[Optional(), Length(max=200)])
