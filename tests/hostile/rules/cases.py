"""Hostile rule files: a small valid rulebook, and one edit per case that breaks one of its files, with the
`file:line: message` part its refusal must contain (exit 4, never a traceback, a RecursionError or a
MemoryError). test_hostile_rules.py writes each case to a temporary folder and loads it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

RULEBOOK = """\
name: hostile
title: 测试规则库
description: 一个项目、一个参数、一个定义
definitions: [definitions.yaml]
programs: [tekun.yaml]
"""
DEFINITIONS = """\
title: 共同定义
description: 脱贫或监测对象
definitions:
  needy:
    title: 脱贫或监测对象
    when: household_type == "脱贫户" or monitored
"""
TEKUN = """\
program: tekun
title: 特困人员基本生活费
description: 每月发给在世的特困人员
entity: person
schedule:
  kind: monthly
hit_policy: collect
references:
  - id: 渝民发〔2023〕10号
    title: 关于提高城乡低保等困难群众救助保障标准的通知
parameters:
  tekun_basic_living:
    description: 特困人员基本生活标准
    unit: 元/人·月
    values:
      2023-01-01:
        value: 932
        status: official
        reference: 渝民发〔2023〕10号
      2024-01-01: null
rules:
  - id: tekun
    title: 特困人员基本生活费
    when: tekun and alive
    amount: tekun_basic_living
"""
FILES = {"rulebook.yaml": RULEBOOK, "definitions.yaml": DEFINITIONS, "tekun.yaml": TEKUN}


def line_of(text: str) -> int:
    """The line of TEKUN that starts (after indentation) with text."""
    return next(i for i, line in enumerate(TEKUN.splitlines(), 1) if line.strip().startswith(text))


DATE_LINE, VALUE_LINE, WHEN_LINE, AMOUNT_LINE = (
    line_of(t) for t in ("2023-01-01:", "value:", "when:", "amount:")
)
PARAM_LINE, NULL_LINE, UNIT_LINE = (
    line_of("tekun_basic_living:"),
    line_of("2024-01-01: null"),
    line_of("unit:"),
)

Edit = Callable[[str], "str | bytes"]


def sub(old: str, new: str) -> Edit:
    def edit(text: str) -> str:
        assert old in text, f"case drifted: {old!r}"
        return text.replace(old, new, 1)

    return edit


def when(expr: str) -> Edit:
    return sub("when: tekun and alive", f"when: {expr}")


def amount(expr: str) -> Edit:
    return sub("amount: tekun_basic_living", f"amount: {expr}")


def value(text: str) -> Edit:
    return sub("value: 932", f"value: {text}")


def encoded(encoding: str) -> Edit:
    return lambda text: text.encode(encoding)


def nested(opening: str, inner: str, closing: str, depth: int) -> Edit:
    return value(opening * depth + inner + closing * depth)


def definition_chain(n: int) -> Edit:
    """needy uses d1, which uses d2, … dn: definitions nested n deep."""
    chain = "".join(f"  d{i}:\n    title: 第 {i} 层\n    when: d{i + 1} or alive\n" for i in range(1, n))
    chain += f"  d{n}:\n    title: 第 {n} 层\n    when: alive\n"
    return lambda text: text.replace("or monitored\n", "or d1\n") + chain


def write(folder: Path, file: str, edit: Edit) -> None:
    """The small rulebook in folder, with edit applied to one of its files."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in FILES.items():
        out = edit(text) if name == file else text
        path = folder / name
        path.write_bytes(out if isinstance(out, bytes) else out.encode("utf-8"))


T = "tekun.yaml"
# (case, file, edit, what the message must contain)
CASES: list[tuple[str, str, Edit, str]] = [
    # 1. dates
    (
        "date not in the calendar",
        T,
        sub("2023-01-01:", "2023-02-30:"),
        f"tekun.yaml:{DATE_LINE}: '2023-02-30' 不是有效的日期:2023 年 2 月没有 30 日",
    ),
    (
        "month 13",
        T,
        sub("2023-01-01:", "2023-13-01:"),
        f"tekun.yaml:{DATE_LINE}: '2023-13-01' 不是有效的日期:没有 13 月",
    ),
    (
        "quoted date not in the calendar",
        T,
        sub("2023-01-01:", '"2023-02-29":'),
        f"tekun.yaml:{DATE_LINE} [parameters.tekun_basic_living.values]: 生效日期 '2023-02-29' 不是有效的日期:2023 年 2 月没有 29 日",
    ),
    (
        "date key a number",
        T,
        sub("2023-01-01:", "20230101:"),
        f"tekun.yaml:{DATE_LINE} [parameters.tekun_basic_living.values]: 生效日期 20230101 应写成 YYYY-MM-DD",
    ),
    (
        "date key zero (pydantic would read 1970-01-01)",
        T,
        sub("2023-01-01:", "0:"),
        "生效日期 0 应写成 YYYY-MM-DD",
    ),
    ("date key a word", T, sub("2023-01-01:", "from-january:"), "生效日期 'from-january' 应写成 YYYY-MM-DD"),
    (
        "date key with a time",
        T,
        sub("2023-01-01:", "2023-01-01 08:00:00:"),
        "生效日期只写日期 YYYY-MM-DD,不带时间",
    ),
    (
        "the same date as a date and as text",
        T,
        sub("      2024-01-01: null", '      2024-01-01: null\n      "2024-01-01": null'),
        "生效日期 2024-01-01 写了两次",
    ),
    (
        "explicit timestamp tag on junk",
        T,
        sub("2023-01-01:", "!!timestamp soon:"),
        f"tekun.yaml:{DATE_LINE}: 'soon' 不是有效的日期",
    ),
    (
        "reference date 02-29 (missing three years in four)",
        T,
        sub("  kind: monthly", '  kind: annual\n  reference_dates: ["02-29"]'),
        "reference date '02-29' is not MM-DD",
    ),
    # 2. encodings and bytes
    (
        "GB18030-encoded file",
        T,
        encoded("gb18030"),
        "tekun.yaml:2: 规则文件不是 UTF-8 编码(字节 0xcc 无法按 UTF-8 解读,看起来是 GBK/GB18030 编码)",
    ),
    ("UTF-16 file", T, encoded("utf-16"), "tekun.yaml:1: 规则文件是 UTF-16 编码"),
    ("a cut UTF-8 character", T, lambda t: t.encode()[:-3] + b"\xe5\x9f", "规则文件不是 UTF-8 编码"),
    ("NUL byte", T, sub("title: 特困", "title: \x00特困"), "tekun.yaml:2: 规则文件含不允许的控制字符 U+0000"),
    (
        "escape character",
        T,
        sub("unit:", "\x1bunit:"),
        f"tekun.yaml:{UNIT_LINE}: 规则文件含不允许的控制字符 U+001B",
    ),
    ("over 1 MiB", T, lambda t: t + "#" * (1 << 20), "规则文件超过 1 MiB"),
    (
        "an escaped lone surrogate (cannot even be printed)",
        T,
        sub("title: 特困人员基本生活费\n", 'title: "\\ud800"\n'),
        "tekun.yaml:2: 文字里有不允许的字符 U+D800",
    ),
    (
        "an escaped terminal escape",
        T,
        sub("title: 特困人员基本生活费\n", 'title: "\\e[2J"\n'),
        "tekun.yaml:2: 文字里有不允许的字符 U+001B",
    ),
    (
        "a lone surrogate in an expression's text",
        T,
        when("tekun and sex == '\\ud800'"),
        f"tekun.yaml:{WHEN_LINE} [rules[tekun].when]: 文字常量里有不允许的字符 U+D800",
    ),
    # 3. nesting, anchors, keys
    (
        "lists nested 20,000 deep",
        T,
        nested("[", "1", "]", 20_000),
        f"tekun.yaml:{VALUE_LINE}: 列表和映射嵌套超过 32 层",
    ),
    (
        "mappings nested 20,000 deep",
        T,
        nested("{a: ", "1", "}", 20_000),
        f"tekun.yaml:{VALUE_LINE}: 列表和映射嵌套超过 32 层",
    ),
    (
        "block mappings nested 40 deep",
        T,
        value("\n" + "".join(" " * (10 + 2 * i) + f"k{i}:\n" for i in range(40)) + " " * 90 + "1"),
        "列表和映射嵌套超过 32 层",
    ),
    (
        "billion laughs",
        T,
        sub("description: 每月", "x: &a [1, 2]\ny: [*a, *a]\ndescription: 每月"),
        "tekun.yaml:3: 规则文件里不能用 YAML 锚点和别名",
    ),
    ("alias to nothing", T, value("*nothing"), f"tekun.yaml:{VALUE_LINE}: 规则文件里不能用 YAML 锚点和别名"),
    (
        "a list as a key",
        T,
        sub("      2024-01-01: null", "      ? [2024, 1]\n      : null"),
        f"tekun.yaml:{NULL_LINE}: 键只能是文字、数字或日期",
    ),
    (
        "explicit int tag on a word",
        T,
        value("!!int many"),
        f"tekun.yaml:{VALUE_LINE}: 数字 'many' 请用十进制直接写出",
    ),
    (
        "explicit bool tag on a word",
        T,
        value("!!bool maybe"),
        f"tekun.yaml:{VALUE_LINE}: 无法解读的值 'maybe'",
    ),
    (
        "python object tag",
        T,
        value("!!python/object/apply:os.system [ls]"),
        "YAML 语法错误: could not determine a constructor",
    ),
    ("a list, not a mapping", T, lambda t: "- 1\n- 2\n", "tekun.yaml: Input should be a valid dictionary"),
    (
        "no references",
        T,
        sub(
            "references:\n  - id: 渝民发〔2023〕10号\n    title: 关于提高城乡低保等困难群众救助保障标准的通知",
            "references: []",
        ),
        "[references]: List should have at least 1 item",
    ),
    (
        "a listed file outside the folder",
        "rulebook.yaml",
        sub("[tekun.yaml]", "[../tekun.yaml]"),
        "rulebook.yaml: rulebook.yaml 列出的 '../tekun.yaml' 应是本目录里的文件名",
    ),
    (
        "a listed file with a NUL",
        "rulebook.yaml",
        sub("[tekun.yaml]", '["tekun\\0.yaml"]'),
        "rulebook.yaml:5: 文字里有不允许的字符 U+0000",
    ),
    (
        "a listed file twice",
        "rulebook.yaml",
        sub("[tekun.yaml]", "[tekun.yaml, tekun.yaml]"),
        "rulebook.yaml: programs 把文件 tekun.yaml 列了不止一次",
    ),
    ("definitions nested 100 deep", "definitions.yaml", definition_chain(100), "经由其他定义嵌套超过 40 层"),
    (
        "definitions nested 1,500 deep (was a RecursionError)",
        "definitions.yaml",
        definition_chain(1500),
        "嵌套超过 40 层",
    ),
    # 4. expressions
    (
        "a 1 MB expression",
        T,
        when("alive and " * 100_000 + "tekun"),
        f"tekun.yaml:{WHEN_LINE} [rules[tekun].when]: 表达式过长(1000005 个字符,最多 2000 个)",
    ),
    (
        "not 100,000 times",
        T,
        when("not " * 100_000 + "tekun"),
        f"tekun.yaml:{WHEN_LINE} [rules[tekun].when]: 表达式过长",
    ),
    (
        "not 100 times",
        T,
        when("not " * 100 + "tekun"),
        f"tekun.yaml:{WHEN_LINE} [rules[tekun].when]: 表达式嵌套超过 40 层",
    ),
    ("300 brackets", T, when("(" * 300 + "tekun" + ")" * 300), "表达式语法错误: too many nested parentheses"),
    (
        "nested and/or in brackets",
        T,
        when("(tekun and (alive or " * 30 + "tekun" + "))" * 30),
        "表达式嵌套超过 40 层",
    ),
    ("a sum of 50 terms", T, amount(" + ".join(["tekun_basic_living"] * 50)), "表达式嵌套超过 40 层"),
    ("10**5000", T, amount("tekun_basic_living * 10**5000"), "不支持的运算 Pow(只有 + - *)"),
    ("a 5,000-digit number", T, amount("tekun_basic_living * 1" + "0" * 4999), "表达式过长"),
    (
        "a 1,000-digit number",
        T,
        amount("tekun_basic_living * 1" + "0" * 999),
        "数字 100000000000…(1000 个字符) 超出上限 100000000",
    ),
    ("1e400", T, amount("tekun_basic_living * 1e400"), "数字 '1e400' 请用十进制直接写出"),
    (
        "1e999999999 (int() of it would never end)",
        T,
        when("age < 1e999999999"),
        "数字 '1e999999999' 请用十进制直接写出",
    ),
    ("hexadecimal", T, amount("tekun_basic_living * 0x10"), "数字 '0x10' 请用十进制直接写出"),
    ("negative hexadecimal", T, when("age > -0x10"), "数字 '0x10' 请用十进制直接写出"),
    ("a number above 1 亿", T, when("income_per_capita_month < 100000000.01"), "数字 100000000.01 超出上限"),
    # 5. amounts the engines could not hold
    (
        "parameter above 1 亿元",
        T,
        value("100000000.01"),
        f"tekun.yaml:{DATE_LINE}: 参数 tekun_basic_living 在 2023-01-01 的金额 100000000.01 超出上限",
    ),
    (
        "parameter of 5,000 digits",
        T,
        value("1" + "0" * 4999),
        f"tekun.yaml:{VALUE_LINE}: 数字写得过长(5000 个字符,最多 30 个)",
    ),
    ("parameter 1e400 (a string to YAML)", T, value("1e400"), "的金额 1E+400 超出上限"),
    ("parameter 1.0e+400 (a float to YAML)", T, value("1.0e+400"), "超出上限"),
    (
        "parameter 017 (YAML 1.1 octal: 15)",
        T,
        value("017"),
        f"tekun.yaml:{VALUE_LINE}: 数字 '017' 请用十进制直接写出",
    ),
    ("parameter 0b1010 (YAML 1.1 binary: 10)", T, value("0b1010"), "数字 '0b1010' 请用十进制直接写出"),
    (
        "parameter 190:20:30 (YAML 1.1 base 60: 685230)",
        T,
        value("190:20:30"),
        "数字 '190:20:30' 请用十进制直接写出",
    ),
    ("parameter .inf", T, value(".inf"), f"tekun.yaml:{VALUE_LINE}: 不是有效的数字: '.inf'"),
    ("parameter .nan", T, value(".nan"), "不是有效的数字: '.nan'"),
    (
        "parameter 'NaN' as text",
        T,
        value('"NaN"'),
        f"tekun.yaml:{VALUE_LINE} [parameters.tekun_basic_living.values.2023-01-01.value.decimal]: Input should be a finite number",
    ),
    (
        "a product that overflows int64",
        T,
        amount("tekun_basic_living * 100000000 * 100000000"),
        f"tekun.yaml:{AMOUNT_LINE} [rules[tekun].amount]: tekun_basic_living * 100000000 * 100000000 的值可达 "
        "932,000,000,000,000,000,000(金额以分计),超出可精确计算的范围 ±100,000,000,000,000",
    ),
    ("a roster amount times a huge number", T, amount("ticket_amount * 100000000"), "超出可精确计算的范围"),
    (
        "counts multiplied into overflow",
        "definitions.yaml",
        lambda t: (
            t + "  n:\n    title: 人数\n    value: " + " * ".join(["household_count(alive)"] * 8) + "\n"
        ),
        "definitions.yaml:7 [definitions.n]: household_count(alive) * ",
    ),
    (
        "an overflow inside a condition",
        T,
        when("tekun and age * 100000000 * 100000000 > 0"),
        "超出可精确计算的范围",
    ),
    (
        "one line above 1 亿元",
        T,
        amount("tekun_basic_living * 1000000"),
        "一笔发放最多 100,000,000 元,tekun_basic_living * 1000000 可达 932,000,000.00 元",
    ),
]
