from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from ..forms import choices, filter_choices
from .formats.base import join_blanks, split_blanks
from .schema import (
    MAX_OPTIONS,
    QUESTION_TYPES,
    SCORING_SCHEMES,
    STATUSES,
    Option,
    QuestionData,
    scoring_label,
    split_tags,
    status_label,
    type_label,
)

OPTION_LETTERS = "ABCDEFGH"


def type_choices():
    return choices((t, type_label(t)) for t in QUESTION_TYPES)


def status_choices():
    return choices((s, status_label(s)) for s in STATUSES)


def _weight(value: str | None) -> float | None:
    """An option's score share in percent (None if absent; garbled input is refused by the form)."""
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


def _check_weight(form, field) -> None:
    text = (field.data or "").strip()
    if not text:
        return
    try:
        number = float(text)
    except ValueError:
        number = float("nan")
    if not -100 <= number <= 100:  # also refuses nan and inf
        raise ValidationError(_l("“得分比例”应为 -100 到 100 之间的数"))


class OptionForm(Form):
    text = StringField(_l("选项内容"), validators=[Optional(), Length(max=2000, message=_l("“选项内容”不能超过 2000 个字符"))])
    correct = BooleanField(_l("正确"))
    feedback = StringField(_l("选后反馈"), validators=[Optional(), Length(max=2000, message=_l("“选后反馈”不能超过 2000 个字符"))])
    weight = StringField(_l("得分比例（%）"), validators=[Optional(), Length(max=20), _check_weight])


class QuestionForm(FlaskForm):
    qtype = SelectField(_l("题型"), choices=type_choices, default="single")
    category = StringField(
        _l("分类"),
        validators=[DataRequired(_l("请填写“分类”")), Length(max=900)],
        description=_l("用 / 分隔层级，例如：政务信息写作基础/三个理念"),
    )
    stem = TextAreaField(
        _l("题干"),
        validators=[DataRequired(_l("请填写“题干”")), Length(max=10_000)],
        description=_l("支持 Markdown。填空题用三个或更多下划线 ___ 标出每个空。"),
    )
    options = FieldList(FormField(OptionForm), label=_l("选项"), min_entries=MAX_OPTIONS, max_entries=MAX_OPTIONS)
    scoring = SelectField(
        _l("多选计分"),
        choices=lambda: choices((s, scoring_label(s)) for s in SCORING_SCHEMES),
        default="partial",
        description=_l("部分得分：全对得满分，只选对一部分且没有选错得一半，否则不得分。"),
    )
    answer = RadioField(_l("判断题答案"), choices=lambda: choices([("true", _l("对")), ("false", _l("错"))]), validators=[Optional()])
    feedback_true = StringField(_l("答“对”时的反馈"), validators=[Optional(), Length(max=2000)])
    feedback_false = StringField(_l("答“错”时的反馈"), validators=[Optional(), Length(max=2000)])
    blanks = TextAreaField(
        _l("填空答案"),
        validators=[Optional(), Length(max=10_000)],
        description=_l("每行一个空，按题干中的顺序；同一个空的多个可接受答案用 / 分隔（答案本身含 / 时写作 \\/）。"),
    )
    reference_answer = TextAreaField(_l("参考答案"), validators=[Optional(), Length(max=10_000)])
    scoring_points = TextAreaField(
        _l("评分要点"), validators=[Optional(), Length(max=10_000)], description=_l("每行一条，供阅卷教师参考。")
    )
    explanation = TextAreaField(_l("解析"), validators=[Optional(), Length(max=10_000)], description=_l("作答后显示给学员，支持 Markdown。"))
    difficulty = SelectField(_l("难度"), choices=lambda: choices((str(n), str(n)) for n in range(1, 6)), default="3")
    points = IntegerField(
        _l("分值"),
        default=1,
        validators=[InputRequired(_l("请填写“分值”")), NumberRange(1, 100, _l("“分值”应为 1 到 100 的整数"))],
    )
    tags = StringField(_l("标签"), validators=[Optional(), Length(max=500)], description=_l("用逗号或顿号分隔"))
    lesson = SelectField(_l("所属课"), choices=[], default="", validate_choice=False)
    status = SelectField(_l("状态"), choices=status_choices, default="draft")
    idnumber = StringField(
        _l("外部编号"), validators=[Optional(), Length(max=100)], description=_l("可选；再次导入同一编号的题目时用于更新这道题。")
    )
    exclusion_group = StringField(
        _l("互斥组"),
        validators=[Optional(), Length(max=50, message=_l("“互斥组”不能超过 50 个字符"))],
        description=_l("可选；会互相泄露答案的几道题填同一个组名，随机组卷时同一组最多抽一道。"),
    )
    revision = HiddenField()

    def to_data(self) -> QuestionData:
        options = [
            Option(
                text=(entry.form.text.data or "").strip(),
                correct=bool(entry.form.correct.data),
                weight=_weight(entry.form.weight.data),
                feedback=entry.form.feedback.data or "",
            )
            for entry in self.options
            if (entry.form.text.data or "").strip()
        ]
        lines = [line for line in (self.blanks.data or "").splitlines() if line.strip()]
        blanks = split_blanks("|".join(lines)) if lines else []
        return QuestionData(
            type=self.qtype.data,
            stem=self.stem.data or "",
            category=self.category.data or "",
            idnumber=(self.idnumber.data or "").strip() or None,
            options=options,
            scoring=self.scoring.data or "partial",
            answer={"true": True, "false": False}.get(self.answer.data or ""),
            feedback_true=self.feedback_true.data or "",
            feedback_false=self.feedback_false.data or "",
            blanks=blanks,
            reference_answer=self.reference_answer.data or "",
            scoring_points=[p.strip() for p in (self.scoring_points.data or "").splitlines() if p.strip()],
            explanation=self.explanation.data or "",
            difficulty=int(self.difficulty.data or 3),
            points=self.points.data or 1,
            tags=split_tags(self.tags.data or ""),
            lesson=self.lesson.data or None,
            status=self.status.data,
            exclusion_group=(self.exclusion_group.data or "").strip() or None,
        )

    def fill_from(self, data: QuestionData) -> None:
        self.qtype.data = data.type
        self.stem.data = data.stem
        self.category.data = data.category
        self.idnumber.data = data.idnumber or ""
        for entry, option in zip(self.options, data.options):
            entry.form.text.data = option.text
            entry.form.correct.data = option.correct
            entry.form.feedback.data = option.feedback
            entry.form.weight.data = "" if option.weight is None else str(option.weight)
        self.scoring.data = data.scoring
        self.answer.data = {True: "true", False: "false"}.get(data.answer)  # type: ignore[arg-type]
        self.feedback_true.data = data.feedback_true
        self.feedback_false.data = data.feedback_false
        self.blanks.data = "\n".join(join_blanks([variants]) for variants in data.blanks)
        self.reference_answer.data = data.reference_answer
        self.scoring_points.data = "\n".join(data.scoring_points)
        self.explanation.data = data.explanation
        self.difficulty.data = str(data.difficulty)
        self.points.data = data.points
        self.tags.data = _("、").join(data.tags)
        self.lesson.data = data.lesson or ""
        self.status.data = data.status
        self.exclusion_group.data = data.exclusion_group or ""

    # Where each schema field's problems are shown on this form.
    FIELD_FOR = {"type": "qtype", "answer": "options", "scoring_points": "scoring_points"}

    def show_problems(self, problems) -> None:
        for problem in problems:
            name = self.FIELD_FOR.get(problem.field or "", problem.field or "")
            if problem.field == "answer" and self.qtype.data == "truefalse":
                name = "answer"
            field = getattr(self, name, None)
            if field is not None and hasattr(field, "errors"):
                field.errors = [*field.errors, problem.message]
            else:
                self.form_errors.append(problem.message)


class BankFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    q = StringField(_l("搜索题干和选项"), validators=[Optional(), Length(max=200)])
    category = SelectField(_l("分类"), choices=[], default="", validate_choice=False)
    qtype = SelectField(
        _l("题型"), choices=lambda: filter_choices(_l("全部题型"), ((t, type_label(t)) for t in QUESTION_TYPES)), default=""
    )
    tag = SelectField(_l("标签"), choices=[], default="", validate_choice=False)
    lesson = SelectField(_l("所属课"), choices=[], default="", validate_choice=False)
    difficulty = SelectField(
        _l("难度"), choices=lambda: filter_choices(_l("全部难度"), ((str(n), str(n)) for n in range(1, 6))), default=""
    )
    status = SelectField(
        _l("状态"), choices=lambda: filter_choices(_l("全部状态"), ((s, status_label(s)) for s in STATUSES)), default=""
    )


class BulkForm(FlaskForm):
    ids = SelectMultipleField(_l("选中的题目"), coerce=str, validate_choice=False)
    action = SelectField(
        _l("批量操作"),
        choices=lambda: choices([("move", _l("移动到分类")), ("retire", _l("停用")), ("ready", _l("设为可用")), ("draft", _l("设为草稿"))]),
    )
    category = StringField(_l("目标分类"), validators=[Optional(), Length(max=900)])


class ImportForm(FlaskForm):
    file = FileField(_l("题目文件"), validators=[FileRequired(_l("请选择要导入的文件"))])
    category = StringField(
        _l("默认分类"),
        validators=[Optional(), Length(max=900)],
        description=_l("文件中没有写明分类的题目放入此分类；留空则放入“未分类”。"),
    )


class ExportForm(FlaskForm):
    class Meta:
        csrf = False

    format = SelectField(
        _l("导出格式"),
        choices=lambda: choices([("yaml", _l("YAML（完整，可无损导回）")), ("xlsx", _l("Excel（.xlsx）")), ("gift", _l("GIFT（Moodle）"))]),
        default="yaml",
    )


class CategoryMoveForm(FlaskForm):
    path = StringField(
        _l("新的完整路径"),
        description=_l("用“/”分隔各层，例如“政务信息写作基础/三个理念”；改最后一层是改名，改前面的层是移动，下级分类随之移动。"),
        validators=[DataRequired(_l("请填写分类路径")), Length(max=900)],
    )


class RestoreForm(FlaskForm):
    # The revision the page showed as current: a restore made from a stale page is refused.
    revision = HiddenField()
