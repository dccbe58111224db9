"""The engine's own finding codes (the rulebook declares the others in its findings file), with their titles."""

from __future__ import annotations

from enum import StrEnum


class Code(StrEnum):
    """The engine's own findings: about the roster (before the rulebook's) and about a paid list (after)."""

    ID_INVALID = "ID_INVALID"
    PERSON_DUPLICATE = "PERSON_DUPLICATE"
    OVERPAID = "OVERPAID"
    UNDERPAID = "UNDERPAID"
    UNPAID_ELIGIBLE = "UNPAID_ELIGIBLE"
    PAID_NOT_ELIGIBLE = "PAID_NOT_ELIGIBLE"


ROSTER_TITLES = {Code.ID_INVALID: "证件号码无效", Code.PERSON_DUPLICATE: "同一人重复登记"}
DIFF_TITLES = {
    Code.OVERPAID: "超标准发放",
    Code.UNDERPAID: "少发",
    Code.UNPAID_ELIGIBLE: "应享未享",
    Code.PAID_NOT_ELIGIBLE: "不符合条件而发放",
}
