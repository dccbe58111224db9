"""privacy.py: one mask for a 证件号码 (6 + ******** + 4), the ID-shaped text of pages and files, accounts too."""

from __future__ import annotations

import pytest

from subsidy_engine import privacy
from subsidy_engine.privacy import mask_cell, mask_id, mask_ids, mask_text
from subsidy_engine.web import masking


def test_mask_id() -> None:
    assert mask_id("50011919480808406X") == "500119********406X"
    assert mask_id(" 500119194808084061 ") == "500119********4061"
    assert mask_id("500119400101003") == "500119********1003"  # a 15-digit number: the same 8 stars
    assert mask_id("12345") == "*****"
    assert mask_id(None) == mask_id("") == ""


def test_files_mask_each_18_character_id_in_a_text() -> None:
    text = "张三 500119194808084061、李四 50011919480808406x,户编号 5001192030010001"
    assert mask_ids(text) == "张三 500119********4061、李四 500119********406x,户编号 5001192030010001"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("代发账号 6225880123456789 校验位错误", "代发账号 622588********6789 校验位错误"),  # 16 digits
        ("银行卡号:6225880123456789", "银行卡号:622588********6789"),
        ("account 6225880123456789", "account 622588********6789"),
        ("6217000010012345678", "621700********5678"),  # 19 digits
        ("62170000100123456", "621700********3456"),  # 17 digits
        ("卡号 6225 8801 2345 6789", "卡号 6225 8********6789"),  # as printed on a card
        ("户编号 5001192030010001", "户编号 5001192030010001"),  # a 16-digit 户编号 stays
        ("5001192030010001", "5001192030010001"),
        ("500119194808084061", "500119********4061"),
    ],
)
def test_pages_mask_ids_and_accounts(text: str, masked: str) -> None:
    assert mask_text(text) == masked
    assert masking.mask_text(text) == masked
    assert masking.finalize(text) == masked  # every {{ … }} on a page


def test_the_terminal_masks_personal_columns() -> None:
    assert mask_cell("证件号码", "500119194808084061") == "500119********4061"
    assert mask_cell("残疾证号", "50011919480808406142") == "500119********6142"
    assert mask_cell("代发账号", "6225880123456789") == "622588********6789"
    assert mask_cell("姓名", "张三") == "张三"


def test_the_web_uses_the_same_mask() -> None:
    assert masking.mask_id is privacy.mask_id
    link = "/runs/0123456789abcdef0123456789abcdef/payments 代发账号 6225880123456789"
    assert (
        masking.mask_text(link)
        == "/runs/0123456789abcdef0123456789abcdef/payments 代发账号 622588********6789"
    )
