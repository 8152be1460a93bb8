"""GIFT questions in Moodle's HTML format (`[html]`) become the bank's Markdown."""
from __future__ import annotations

import html

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markupsafe import Markup

from trainer.bank.formats import export, parse
from trainer.bank.formats.html_text import html_to_markdown, html_to_plain
from trainer.bank.schema import Option, QuestionData
from trainer.markdown import render_markdown

from .strategies import FAST, text
from .test_gift import only, read

# What Moodle's own GIFT export writes for questions edited in its HTML editor: the
# question text tagged [html], answers and feedback in the same format without a tag,
# short-answer and numerical answers as plain text, `=`, `:` and `#` escaped everywhere.
MOODLE_EXPORT = r"""// question: 0  name: Switch category to $course$/top/默认/政务信息写作
$CATEGORY: $course$/top/默认/政务信息写作


// question: 101  name: 单选一
::单选一::[html]<p dir\="ltr" style\="text-align\: left;">政务信息的<strong>标准</strong>是？<br></p>{
	=<p>快、精、准</p>#<p>对，<strong>“快、精、准”</strong>是基本要求。</p>
	~<p>多、长、全</p>#<p>不对：信息要&nbsp;<em>精</em>&nbsp;而不是长。</p>
	####<p>见 <a href\="https\://www.gov.cn/zhengce/">中国政府网</a> 的说明。</p>
}


// question: 102  name: 多选一
::多选一::[html]<p>下列属于&\#8220;三个理念&\#8221;的是（&nbsp;&nbsp;）。</p>{
	~%50%<p>奋力争先</p>
	~%50%<p>有为才有位</p>
	~%-100%<p>按部就班</p>#<p>这与&lt;奋力争先&gt;相反 &amp; 不可取。</p>
}


// question: 103  name: 判断一
::判断一::[html]<p>政务信息应当<em>先报告、后核实</em>。</p>{FALSE#<p>应当先核实。</p>#<p>答对了！</p>####<p>原则：</p><ul><li>先核实、后报告；</li><li>紧急情况<b>边核实边报告</b>。</li></ul>}


// question: 104  name: 图文题
::图文题::[html]<p>报送流程如下图<br>（* 号栏目必填）：</p><p><img src\="@@PLUGINFILE@@/flow.png" alt\="报送流程图" width\="400"></p>{
	=<p>先审核后报送</p>
	~<p>先报送后审核</p>
}


// question: 105  name: 填空一
::填空一::[html]<p>中华人民共和国的首都是？</p>{
	=%100%北京#
	=%100%北京市#<p>也对</p>
}


// question: 106  name: 数值一
::数值一::[html]<p>《条例》是哪一年施行的？</p>{#
	=%100%2020:0#<p>正确</p>
}


// question: 107  name: 简答一
::简答一::[html]<p>简述政务信息的“四快”。</p>{####<p><strong>发现问题快</strong>、采编撰写快……</p>}
"""

CATEGORY = "默认/政务信息写作"

EXPECTED = [
    QuestionData(
        type="single", stem="政务信息的**标准**是？", category=CATEGORY,
        options=[Option("快、精、准", True, None, "对，“**快、精、准**”是基本要求。"),
                 Option("多、长、全", False, None, "不对：信息要 *精* 而不是长。")],
        explanation="见 [中国政府网](https://www.gov.cn/zhengce/) 的说明。"),
    QuestionData(
        type="multiple", stem="下列属于“三个理念”的是（ ）。", category=CATEGORY, scoring="weighted",
        options=[Option("奋力争先", True, 50.0), Option("有为才有位", True, 50.0),
                 Option("按部就班", False, -100.0, "这与<奋力争先>相反 & 不可取。")]),
    QuestionData(
        type="truefalse", stem="政务信息应当*先报告、后核实*。", category=CATEGORY, answer=False,
        feedback_true="应当先核实。", feedback_false="答对了！",
        explanation="原则：\n\n- 先核实、后报告；\n- 紧急情况**边核实边报告**。"),
    QuestionData(
        type="single", stem="报送流程如下图\n（\\* 号栏目必填）：\n\n报送流程图", category=CATEGORY,
        options=[Option("先审核后报送", True), Option("先报送后审核")]),
    QuestionData(type="blank", stem="中华人民共和国的首都是？ ___", category=CATEGORY, blanks=[["北京", "北京市"]]),
    QuestionData(type="blank", stem="《条例》是哪一年施行的？ ___", category=CATEGORY, blanks=[["2020"]]),
    QuestionData(type="short", stem="简述政务信息的“四快”。", category=CATEGORY,
                 reference_answer="**发现问题快**、采编撰写快……"),
]


# ---------------------------------------------------------------- GIFT


def test_a_moodle_html_export_becomes_markdown():
    result = read(MOODLE_EXPORT)
    assert result.problems == []
    assert [(q.line, q.label) for q in result.questions] == [
        (6, "单选一"), (14, "多选一"), (22, "判断一"), (26, "图文题"), (33, "填空一"), (40, "数值一"), (46, "简答一")]
    assert [q.data for q in result.questions] == EXPECTED


def test_what_trainees_see_is_the_text_not_the_html():
    stems = [q.data.stem for q in read(MOODLE_EXPORT).questions]
    assert str(render_markdown(stems[0])) == "<p>政务信息的<strong>标准</strong>是？</p>\n"
    # The <br> of the HTML is a line break on the page too.
    assert str(render_markdown(stems[3])) == "<p>报送流程如下图<br>\n（* 号栏目必填）：</p>\n<p>报送流程图</p>\n"
    explanation = read(MOODLE_EXPORT).questions[2].data.explanation
    assert str(render_markdown(explanation)) == (
        "<p>原则：</p>\n<ul>\n<li>先核实、后报告；</li>\n<li>紧急情况<strong>边核实边报告</strong>。</li>\n</ul>\n")


def test_the_imported_questions_survive_the_gift_exporter():
    imported = [q.data for q in read(MOODLE_EXPORT).questions]
    again = parse("bank.gift", export(imported, "gift"))
    assert again.problems == []
    assert [q.data.canonical() for q in again.questions] == [q.canonical() for q in imported]


def test_a_single_line_html_question():
    data = only("::单选一::[html]<p>政务信息的标准是？</p>{=<p>快、精、准</p> ~<p>多、长、全</p>#<p>不对</p>}")
    assert data == QuestionData(type="single", stem="政务信息的标准是？",
                                options=[Option("快、精、准", True), Option("多、长、全", False, None, "不对")])


def test_html_missing_word_keeps_its_blank():
    data = only("[html]<p>政务信息要做到<b>快</b>、{=精 =精炼}、准。</p>")
    assert (data.stem, data.blanks) == ("政务信息要做到**快**、___、准。", [["精", "精炼"]])


def test_short_answers_in_html_become_plain_text():
    data = only("[html]<p>填写：</p>{=<span>北京</span>&nbsp;市 =a&lt;b =x<y =A &amp; B}")
    assert data.blanks == [["北京 市", "a<b", "x<y", "A & B"]]
    assert data.stem == "填写： ___"


def test_gift_escapes_inside_html():
    data = only(r'[html]<p><a href\="http\://e.org/a\#b">链接</a> \{不是答案块\} a\\b &\#42;</p>{T}')
    assert data.stem == r"[链接](http://e.org/a#b) {不是答案块} a\\b \*"


@pytest.mark.parametrize("tag", ["", "[markdown]", "[plain]", "[moodle]"])
def test_only_html_text_is_converted(tag):
    data = only(f"{tag}<p>甲 &amp; **乙**</p>{{=<b>丙</b>#<i>反馈</i> ~丁 ####<p>解析</p>}}")
    assert data.stem == "<p>甲 &amp; **乙**</p>"
    assert data.options[0] == Option("<b>丙</b>", True, None, "<i>反馈</i>")
    assert data.explanation == "<p>解析</p>"


def test_text_that_looks_like_markdown_stays_literal():
    data = only("::名字::[html]**题干**{=[html]甲#[html]反馈 ~乙 ####[html]# 解析}")
    assert data.stem == r"\*\*题干\*\*" and data.options[0] == Option("甲", True, None, "反馈")
    assert data.explanation == r"\# 解析"


def test_each_text_follows_its_own_format_tag_as_in_moodle():
    # Untagged answers are in the question's format; a tag of their own wins.
    data = only("[html]<p>题</p>{=[markdown]**甲** ~<b>乙</b> ~[plain]<i>丙</i>}")
    assert [o.text for o in data.options] == ["**甲**", "**乙**", "<i>丙</i>"]
    data = only("[markdown]**题**{=[html]<b>甲</b> ~<b>乙</b>}")
    assert data.stem == "**题**" and [o.text for o in data.options] == ["**甲**", "<b>乙</b>"]


def test_comments_and_categories_around_html_questions():
    result = read("""\
$CATEGORY: $course$/top/政务

// question: 7  name: 第一题
// [difficulty:2] [tag:理念] [points:3]
::第一题::[html]<p>第一个理念？</p>{
  // 答案之间的注释
  =<p>奋力争先</p>
  ~<p>推陈出新</p>
}
""")
    assert result.problems == []
    (question,) = result.questions
    data = question.data
    assert (question.line, data.category, data.difficulty, data.tags, data.points) == (5, "政务", 2, ["理念"], 3)
    assert data.stem == "第一个理念？" and [o.text for o in data.options] == ["奋力争先", "推陈出新"]


def test_an_option_with_only_an_image_without_alt_text_is_empty():
    assert [p.message for p in read(r'[html]题{=<img src\="a.png"> ~乙}').problems] == [
        "答案块中有空的选项（= 或 ~ 后面没有内容）。"]


# ---------------------------------------------------------------- the conversion


@pytest.mark.parametrize(("html", "markdown"), [
    ("<p>一</p><p>二</p>", "一\n\n二"),
    ("<div>一</div>\n<div>二</div>", "一\n\n二"),
    ("<h3>标题</h3>正文", "标题\n\n正文"),
    ("第一行<br>第二行<br/>第三行", "第一行\n第二行\n第三行"),
    ("一<br><br><br>二", "一\n\n二"),
    ("<p>一</p><p><br></p><p>&nbsp;</p><p>二</p>", "一\n\n二"),
    ("  \n<p>  前后  空白 \n 折叠  </p>\n ", "前后 空白 折叠"),
    ("a&nbsp;&amp;&nbsp;b &lt;p&gt; &quot;q&quot; &#39;s&#39; &copy;", "a & b \\<p> \"q\" 's' ©"),
    ("<ul><li>甲</li><li><p>乙</p></li></ul><p>之后</p>", "- 甲\n- 乙\n\n之后"),
    ("<ol><li>甲<ul><li>子项</li></ul></li><li>乙</li></ol>", "1. 甲\n   - 子项\n2. 乙"),
    ("<ul><li>第一行<br>第二行</li></ul>", "- 第一行\n  第二行"),
    ("<b>粗</b><strong>体</strong> <i>斜</i> <em>体</em>", "**粗体** *斜* *体*"),
    ("<b> 前后空格 </b>后", "**前后空格** 后"),
    ("<b><i>粗斜</i></b> <b>外<b>内</b></b>", "***粗斜*** **外内**"),
    ("是<strong>“快”</strong>吗", "是“**快**”吗"),
    ("<b>“”</b><i> </i><b></b>", "“”"),
    ("<b>一<p>二</p></b>", "**一**\n\n**二**"),
    ("<code>a*b_c</code> <code>`</code>", "`a*b_c` `` ` ``"),
    ('<a href="https://e.org/a b(1)">链接</a>', "[链接](https://e.org/a%20b\\(1\\))"),
    ('<a href="../files/a.pdf">相对</a> <a href="/x">根</a>', "[相对](../files/a.pdf) [根](/x)"),
    ('<a href="javascript:alert(1)">脚本</a> <a href="mailto:a@b.c">邮件</a> <a>无</a>', "脚本 邮件 无"),
    ('<a href="@@PLUGINFILE@@/a.pdf">附件</a>', "附件"),
    ('<a href="http://e.org"></a>', ""),
    ('<img src="a.png" alt="示意图">图<img src="b.png">', "示意图图"),
    ('<a href="http://e.org"><img alt="标志"></a>', "[标志](http://e.org)"),
    ("<span style=\"color:red\">红</span><u>下划</u><sup>2</sup><font>字</font>", "红下划2字"),
    ("<script>alert(1)</script><style>p {}</style>正文<!-- 注释 -->", "正文"),
    ("<table><tr><td>甲</td><td>乙</td></tr><tr><td>丙</td></tr></table>", "甲 乙\n丙"),
    # Literal text that Markdown would read as markup
    ("* 星号 *强调* 2*3", "\\* 星号 \\*强调\\* 2\\*3"),
    ("a_b __c__ [d](e) `f` |g| ~~h~~ \\", "a\\_b \\_\\_c\\_\\_ \\[d\\](e) \\`f\\` \\|g\\| \\~\\~h\\~\\~ \\\\"),
    ("<p># 一</p><p>- 二</p><p>+ 三</p><p>&gt; 四</p><p>1. 五</p><p>2) 六</p><p>===</p><p>---</p>",
     "\\# 一\n\n\\- 二\n\n\\+ 三\n\n\\> 四\n\n1\\. 五\n\n2\\) 六\n\n\\===\n\n\\---"),
    ("#1 第1. 2020.5 a - b", "#1 第1. 2020.5 a - b"),
    ("&lt;http://e.org&gt; &amp;copy; a < b", "\\<http://e.org> \\&copy; a < b"),
    ("首都是_____。", "首都是_____。"),
])
def test_html_to_markdown(html, markdown):
    assert html_to_markdown(html) == markdown


@pytest.mark.parametrize(("html", "markdown"), [
    ("* 星号 *强调*", "<p>* 星号 *强调*</p>\n"),
    ("<p># 一</p><p>1. 二</p><p>&lt;b&gt;</p>", "<p># 一</p>\n<p>1. 二</p>\n<p>&lt;b&gt;</p>\n"),
    ("是<strong>“快”</strong>吗", "<p>是“<strong>快</strong>”吗</p>\n"),
    ('<a href="http://e.org/?a=1&amp;b=2">链接</a>',
     '<p><a href="http://e.org/?a=1&amp;b=2" rel="noopener noreferrer">链接</a></p>\n'),
])
def test_the_markdown_renders_as_the_html_did(html, markdown):
    assert str(render_markdown(html_to_markdown(html))) == markdown


@pytest.mark.parametrize(("html", "plain"), [
    ("<p>北京</p>", "北京"),
    ("<b>a*b</b>&nbsp;&amp; <i>c_d</i>", "a*b & c_d"),
    ("<p>一</p><p>二</p><ul><li>三</li></ul>", "一 二 三"),
    ("x<y a < b", "x<y a < b"),
])
def test_html_to_plain(html, plain):
    assert html_to_plain(html) == plain


@FAST
@given(text(40).filter(lambda t: "___" not in t),
       st.sampled_from(["{}", "<p>{}</p>", "<b>{}</b>", "快<i>{}</i>快", "<ul><li>{}</li></ul>", '<a href="/x">{}</a>']))
def test_literal_text_stays_literal(words, wrapper):
    """The rendered Markdown shows the text the HTML showed, whatever its characters
    (except runs of three underscores, which are the bank's blank marks)."""
    source = wrapper.format(html.escape(words))
    assert Markup(render_markdown(html_to_markdown(source))).striptags() == Markup(source).striptags()
