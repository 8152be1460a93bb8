from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, EqualTo, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..forms import choices, filter_choices
from .models import ROLE_LABELS, Role


def role_choices() -> list[SelectChoice]:
    return choices((role.value, ROLE_LABELS[role]) for role in Role)


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class LoginForm(FlaskForm):
    username = StringField(_l("用户名"), validators=[DataRequired(_l("请填写用户名")), Length(max=64)])
    password = PasswordField(_l("密码"), validators=[DataRequired(_l("请填写密码")), Length(max=128)])
    remember = BooleanField(_l("记住我"))
    next = HiddenField()


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("当前密码"), validators=[DataRequired(_l("请填写当前密码"))])
    new_password = PasswordField(_l("新密码"), validators=[DataRequired(_l("请填写新密码")), Length(max=128)])
    confirm = PasswordField(
        _l("再次输入新密码"),
        validators=[DataRequired(_l("请再次输入新密码")), EqualTo("new_password", _l("两次输入的新密码不一致"))],
    )


class _UserFields(FlaskForm):
    display_name = StringField(_l("姓名"), validators=[DataRequired(_l("请填写姓名")), Length(max=100)])
    unit = StringField(_l("单位"), validators=[Optional(), Length(max=100)])
    cohort = StringField(_l("培训班期次"), validators=[Optional(), Length(max=100)])
    role = SelectField(_l("角色"), choices=role_choices, default=Role.TRAINEE.value)


class UserCreateForm(_UserFields):
    username = StringField(_l("用户名"), validators=[DataRequired(_l("请填写用户名")), Length(max=64)])
    password = PasswordField(
        _l("初始密码"),
        description=_l("留空则自动生成，并在保存后显示一次"),
        validators=[Optional(), Length(max=128)],
    )
    courses = MultiCheckboxField(_l("课程（学员选修的，或教师负责的）"), coerce=int)


class UserEditForm(_UserFields):
    active = BooleanField(_l("允许登录"))
    new_password = PasswordField(
        _l("重置密码"),
        description=_l("留空则不修改；设置后，该用户下次登录时须先改为自己的密码"),
        validators=[Optional(), Length(max=128)],
    )
    end_logins = BooleanField(_l("让该用户在所有设备上退出登录"))
    courses = MultiCheckboxField(_l("课程（学员选修的，或教师负责的）"), coerce=int)


class UserFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    q = StringField(_l("搜索"), validators=[Optional(), Length(max=64)])
    role = SelectField(_l("角色"), choices=lambda: filter_choices(_l("全部角色"), ((r.value, ROLE_LABELS[r]) for r in Role)), default="")
    unit = SelectField(_l("单位"), choices=[], default="", validate_choice=False)
    cohort = SelectField(_l("培训班期次"), choices=[], default="", validate_choice=False)
    active = SelectField(
        _l("状态"), choices=filter_choices(_l("全部"), [("1", _l("可登录")), ("0", _l("已停用"))]), default=""
    )


class CohortNameForm(FlaskForm):
    name = StringField(_l("期次名称"), validators=[DataRequired(_l("请填写期次名称")), Length(max=100)])


class CohortMergeForm(FlaskForm):
    target = SelectField(_l("并入期次"), choices=[], coerce=str, validate_choice=False)


class CohortEnrollForm(FlaskForm):
    courses = MultiCheckboxField(_l("课程"), coerce=int)
