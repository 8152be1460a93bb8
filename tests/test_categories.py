"""The category tree: counts, renaming and moving branches, deleting empty categories."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from trainer.bank import categories, logic
from trainer.bank.models import Category, Question
from trainer.errors import DomainError
from trainer.extensions import db

from .test_bank import single


@pytest.fixture
def filed(app, bank):
    """Questions in a small tree: 基础 (1) > 理念 (2) > 细节 (1), and 写作 (1)."""
    return bank(
        single("甲", category="基础"),
        single("乙", category="基础/理念"),
        single("丙", category="基础/理念"),
        single("丁", category="基础/理念/细节"),
        single("戊", category="写作"),
    )


def paths(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(Category.path).order_by(Category.path)))


def category(path: str) -> Category:
    return db.session.scalars(select(Category).where(Category.path == path)).one()


def category_id(app, path: str) -> int:
    with app.app_context():
        return category(path).id


def test_the_tree_counts_questions_in_each_category_and_its_branch(app, filed, ctx):
    rows = {row.category.path: (row.questions, row.in_branch, row.children) for row in categories.tree()}
    assert rows == {
        "写作": (1, 1, 0),
        "基础": (1, 4, 1),
        "基础/理念": (2, 3, 1),
        "基础/理念/细节": (1, 1, 0),
    }
    summary = categories.summary(category("基础"))
    assert (summary.questions, summary.in_branch, summary.children) == (1, 4, 1)


def test_renaming_carries_the_branch_along(app, filed, ctx):
    assert categories.move(category("基础/理念"), " 基础 / 三个理念 ") == 2
    db.session.commit()
    assert paths(app) == ["写作", "基础", "基础/三个理念", "基础/三个理念/细节"]
    moved = category("基础/三个理念/细节")
    assert moved.name == "细节" and moved.parent_id == category("基础/三个理念").id
    question = db.session.scalars(select(Question).where(Question.stem == "丁")).one()
    assert logic.data_of(question).category == "基础/三个理念/细节"


def test_moving_under_a_new_parent_creates_the_missing_levels(app, filed, ctx):
    categories.move(category("基础/理念"), "政务信息/写作基础/理念")
    db.session.commit()
    assert paths(app) == ["写作", "基础", "政务信息", "政务信息/写作基础", "政务信息/写作基础/理念",
                          "政务信息/写作基础/理念/细节"]
    assert category("政务信息/写作基础/理念").parent_id == category("政务信息/写作基础").id


@pytest.mark.parametrize("target, message", [
    ("基础/理念/细节/更细", "不能把分类移到它自己的下级分类中"),
    ("写作", "分类“写作”已经存在"),
    ("基础//理念", "路径中有空的层级"),
    ("", "请填写分类"),
    ("长" * 101, "每一层不能超过 100 个字符"),
    ("/".join("层" * 9), "最多 8 层"),
])
def test_a_move_that_cannot_be_done_is_refused_naming_the_field(app, filed, ctx, target, message):
    with pytest.raises(DomainError, match=message) as raised:
        categories.move(category("基础/理念"), target)
    assert raised.value.field == "path"


def test_only_an_empty_leaf_can_be_deleted_and_prune_removes_every_empty_branch(app, filed, ctx):
    with pytest.raises(DomainError, match="只能删除没有题目"):
        categories.remove(category("写作"))
    logic.bulk_move([q.id for q in db.session.scalars(select(Question))], "归档")
    db.session.commit()
    with pytest.raises(DomainError, match="只能删除没有题目"):
        categories.remove(category("基础"))  # it still has a sub-category
    categories.remove(category("写作"))
    db.session.commit()
    assert categories.prune_empty() == 3
    db.session.commit()
    assert paths(app) == ["归档"]


def test_bulk_move_checks_the_path_like_the_question_form(app, filed, ctx):
    with pytest.raises(DomainError, match="每一层不能超过 100 个字符") as raised:
        logic.bulk_move([1], "长" * 101)
    assert raised.value.field == "category"


def test_the_pages(app, filed, login_as, count_queries):
    client, _ = login_as("instructor")
    with count_queries() as few:
        page = client.get("/bank/categories").get_data(as_text=True)
    assert "细节" in page and "改名或移动" in page
    idea = category_id(app, "基础/理念")
    detail = client.get(f"/bank/categories/{idea}").get_data(as_text=True)
    assert "本分类有 2 道题，连同下级分类共 3 道题；下级分类 1 个。" in detail

    taken = client.post(f"/bank/categories/{idea}", data={"path": "写作"})
    assert taken.status_code == 400 and "分类“写作”已经存在" in taken.get_data(as_text=True)
    response = client.post(f"/bank/categories/{idea}", data={"path": "基础/三个理念"})
    assert response.status_code == 302
    assert "分类已改为“基础/三个理念”（2 个分类的路径随之更新）" in client.get(response.headers["Location"]).get_data(as_text=True)

    blocked = client.post(f"/bank/categories/{category_id(app, '写作')}/delete")
    assert blocked.status_code == 302
    assert "只能删除没有题目" in client.get(blocked.headers["Location"]).get_data(as_text=True)
    assert client.post(f"/bank/categories/{idea}/delete", csrf=False).status_code == 400

    with app.app_context():
        for n in range(10):
            logic.ensure_categories([f"空/第{n}类"])
        db.session.commit()
    with count_queries() as many:
        assert client.get("/bank/categories").status_code == 200
    assert len(few) == len(many)
    response = client.post("/bank/categories/prune")
    assert "已删除 11 个空分类" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert client.get("/bank/categories/999999").status_code == 404
