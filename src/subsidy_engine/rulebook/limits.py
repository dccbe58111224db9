"""The limits a rulebook folder must respect, so that loading it is bounded in time and memory and every value it
gives can be computed exactly in the engines' integer-fen (int64) arithmetic. README "Limits of a rule file"."""

from __future__ import annotations

import re
from decimal import Decimal

from subsidy_engine.money import fen

# --- files --------------------------------------------------------------------------------------------------
MAX_FILE_BYTES = 1 << 20  # one rule file
MAX_FOLDER_BYTES = 8 << 20  # all the files a rulebook.yaml lists, together
MAX_YAML_DEPTH = 32  # lists/mappings inside each other (the bundled files use 6)
MAX_NUMBER_CHARS = 30  # the text of one number in YAML

# Characters no text of a rule file may hold, even written as an escape (`"\\x1b"`, `"\\ud800"`): control
# characters but tab and line breaks, and lone surrogates (which cannot even be printed in a message).
UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")

# --- contents -----------------------------------------------------------------------------------------------
MAX_ITEMS = 2_000  # parameters, definitions, rules (each, over the whole rulebook), values of one parameter
MAX_EXPR_CHARS = 2_000  # one `when`, `amount` or `value` expression (spaces collapsed)
MAX_EXPR_DEPTH = 40  # nesting of an expression's syntax tree (`not not ...`, brackets, operators)
MAX_DEFINITION_DEPTH = 40  # definitions that use definitions that use definitions …

# --- amounts ------------------------------------------------------------------------------------------------
YUAN_CEILING = Decimal(10) ** 8  # a parameter value and a number written in an expression: at most 1 亿
# What the fields may hold, for bounding arithmetic: roster money 0 … 1 亿元, whole-number fields (age, 年级,
# 残疾类别/等级) within ±10,000, a household count (household_count) 0 … 100.
FIELD_MONEY_FEN = fen(YUAN_CEILING)
FIELD_INT = 10_000
HOUSEHOLD_CEILING = 100
# Every value an expression computes (money in fen, counts as they are) stays within ±VALUE_CEILING (10^12 元,
# 1/92,000 of the int64 range), and one payment line (a rule's amount) is at most 1 亿元, so that totals over
# 10^9 lines still fit.
VALUE_CEILING = 10**14
LINE_CEILING_FEN = FIELD_MONEY_FEN
