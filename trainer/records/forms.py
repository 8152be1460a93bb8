from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import Length, Optional


class ProgressFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    q = StringField(_l("姓名或用户名"), validators=[Optional(), Length(max=64)])
    course = SelectField(_l("课程"), choices=[], default="", validate_choice=False)
    unit = SelectField(_l("单位"), choices=[], default="", validate_choice=False)
    cohort = SelectField(_l("培训班期次"), choices=[], default="", validate_choice=False)
