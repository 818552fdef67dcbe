"""Forms of the questionnaire.

The questions themselves are dynamic (one framework per wave) and validated by
:func:`survey.services.questionnaire.parse_page`; these forms carry the CSRF
token and the fixed fields.
"""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length


class PageForm(FlaskForm):
    """A questionnaire page or the start/submit button: CSRF only."""


class CodeForm(FlaskForm):
    code = StringField(
        _l("邀请码"), validators=[DataRequired(_l("请输入邀请码。")), Length(max=300)]
    )
