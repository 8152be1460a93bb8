from __future__ import annotations

import codecs

import pytest

from trainer.bank.formats import FormatError, parse
from trainer.bank.formats.encoding import decode_text

TEXT = "题型,题干\n单选,讲话提出的第一个理念是什么？\n"


@pytest.mark.parametrize("raw", [
    TEXT.encode("utf-8"),
    codecs.BOM_UTF8 + TEXT.encode("utf-8"),
    TEXT.encode("gbk"),
    TEXT.encode("gb2312"),
    TEXT.encode("gb18030"),
    TEXT.encode("utf-16"),  # with a BOM, as Excel's "Unicode text" writes it
    codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"),
], ids=["utf-8", "utf-8-bom", "gbk", "gb2312", "gb18030", "utf-16-le", "utf-16-be"])
def test_encodings_are_detected(raw):
    assert decode_text(raw) == TEXT


def test_gb18030_beyond_gbk():
    text = "生僻字：𠀀䶮，欧元符号 €"
    assert decode_text(text.encode("gb18030")) == text


def test_gbk_bytes_are_not_mistaken_for_utf8():
    assert decode_text("单选".encode("gbk")) == "单选"
    assert decode_text("判断题：对".encode("gbk")) == "判断题：对"


@pytest.mark.parametrize("newline", ["\r\n", "\r", "\n"])
def test_newlines_are_normalized(newline):
    assert decode_text(newline.join(["a", "b", ""]).encode()) == "a\nb\n"
    assert decode_text(newline.join(["a", "b"]).encode("utf-16")) == "a\nb"


def test_empty_file():
    assert decode_text(b"") == ""


def test_utf8_bom_followed_by_gbk_names_the_line():
    raw = codecs.BOM_UTF8 + "第一行\n第二行\n".encode() + "第三行".encode("gbk")
    with pytest.raises(FormatError) as caught:
        decode_text(raw)
    assert caught.value.problem.line == 3
    assert "UTF-8" in caught.value.problem.message


def test_undecodable_bytes_name_their_line():
    raw = "第一行\n第二行\n".encode() + b"\x80\xff\n"
    with pytest.raises(FormatError) as caught:
        decode_text(raw)
    assert caught.value.problem.line == 3
    assert "编码" in caught.value.problem.message


def test_line_counting_follows_old_mac_line_endings():
    with pytest.raises(FormatError) as caught:
        decode_text(b"a\rb\r\nc\r\xff")
    assert caught.value.problem.line == 4


def test_broken_utf16_names_the_line():
    raw = "a\nb\n".encode("utf-16-le") + b"\x00\xdc"  # a lone low surrogate
    with pytest.raises(FormatError) as caught:
        decode_text(codecs.BOM_UTF16_LE + raw)
    assert caught.value.problem.line == 3


@pytest.mark.parametrize("raw", [
    b"PK\x03\x04\x00\x00binary\x00data",
    bytes(range(256)),
    b"\x01\x02\x03\x04\x05\x06abc",
    "type,stem".encode("utf-16-le"),  # UTF-16 without a BOM is full of NUL bytes
    codecs.BOM_UTF16_LE + b"\x00\x00\x01\x00",
], ids=["zip", "all-bytes", "controls", "utf-16-no-bom", "utf-16-nul"])
def test_binary_files_are_refused(raw):
    with pytest.raises(FormatError, match="文件不是文本文件"):
        decode_text(raw)


def test_a_few_stray_control_characters_are_tolerated():
    text = "题型,题干\n" + "单选,题目\x0b内容\n" * 10
    assert decode_text(text.encode()) == text


@pytest.mark.parametrize("extension", ["yaml", "json", "csv", "gift", "aiken", "txt"])
def test_every_text_format_refuses_binary(extension):
    with pytest.raises(FormatError, match="文件不是文本文件"):
        parse(f"bank.{extension}", b"\x00\x01\x02\x03garbage\x00")


def test_format_error_str_includes_the_line():
    with pytest.raises(FormatError) as caught:
        decode_text(b"ok\n\xff")
    assert str(caught.value).startswith("第 2 行：")
