"""The maker-checker states of a run: every transition, and every refusal with its code."""

from __future__ import annotations

import pytest

from subsidy_engine.release import states as st
from subsidy_engine.release.states import Actor, Refused, State

MAKER = Actor("li", "caseworker", "兴隆镇")
COLLEAGUE = Actor("wang", "caseworker", "兴隆镇")
REVIEWER = Actor("zhao", "reviewer", "兴隆镇")
OTHER_TOWN_REVIEWER = Actor("qian", "reviewer", "大观镇")
AUDITOR = Actor("sun", "auditor", None)
FILES = {"payments.csv": "a" * 64, "totals.csv": "b" * 64}


def draft(uploaded_by: str = "") -> st.Release:
    return st.create("run-1", "兴隆镇", MAKER, FILES, uploaded_by=uploaded_by, at="t0")


def submitted() -> st.Release:
    return st.submit(draft(), MAKER, at="t1")


def approved() -> st.Release:
    return st.approve(
        submitted(), REVIEWER, files=FILES, warnings=["HEAD_DECEASED"], acknowledged=["HEAD_DECEASED"]
    )


def refused(code: str, fn, *args, **kw) -> Refused:  # type: ignore[no-untyped-def]
    with pytest.raises(Refused) as e:
        fn(*args, **kw)
    assert e.value.code == code, str(e.value)
    return e.value


def test_the_happy_path_records_every_event() -> None:
    r = st.release(approved(), MAKER, unpaid=[], at="t9")
    assert r.state == State.RELEASED
    assert [(e.action, e.before, e.after, e.user) for e in r.history] == [
        ("create", None, State.DRAFT, "li"),
        ("submit", State.DRAFT, State.SUBMITTED, "li"),
        ("approve", State.SUBMITTED, State.APPROVED, "zhao"),
        ("release", State.APPROVED, State.RELEASED, "li"),
    ]
    assert r.locked == FILES and r.acknowledged == frozenset({"HEAD_DECEASED"})
    assert r.history[0].at == "t0" and r.history[-1].at == "t9"


def test_send_back_needs_a_reason_then_the_run_can_be_edited_and_resubmitted() -> None:
    refused("NO_REASON", st.send_back, submitted(), REVIEWER, "  ")
    back = st.send_back(submitted(), REVIEWER, "低保户数与上月不符")
    assert back.state == State.RETURNED and back.history[-1].reason == "低保户数与上月不符"
    edited = st.edit(back, MAKER, {"payments.csv": "c" * 64})
    assert edited.state == State.RETURNED and edited.files == {"payments.csv": "c" * 64}
    again = st.submit(edited, COLLEAGUE)
    assert again.state == State.SUBMITTED


def test_nobody_approves_a_run_they_made_or_uploaded() -> None:
    maker_as_reviewer = Actor("li", "reviewer", "兴隆镇")
    e = refused("OWN_RUN", st.approve, submitted(), maker_as_reviewer, files=FILES)
    assert e.forbidden
    uploaded = st.submit(draft(uploaded_by="zhao"), MAKER)
    refused("OWN_RUN", st.approve, uploaded, REVIEWER, files=FILES)


def test_only_a_reviewer_of_the_same_town_approves_or_sends_back() -> None:
    assert refused("WRONG_ROLE", st.approve, submitted(), COLLEAGUE, files=FILES).forbidden
    assert refused("WRONG_TOWN", st.approve, submitted(), OTHER_TOWN_REVIEWER, files=FILES).forbidden
    refused("WRONG_ROLE", st.approve, submitted(), AUDITOR, files=FILES)
    refused("WRONG_TOWN", st.send_back, submitted(), OTHER_TOWN_REVIEWER, "x")
    refused("WRONG_ROLE", st.submit, draft(), REVIEWER)


def test_every_warning_must_be_acknowledged() -> None:
    e = refused(
        "UNACKNOWLEDGED",
        st.approve,
        submitted(),
        REVIEWER,
        files=FILES,
        warnings=["HEAD_DECEASED", "DIBAO_VEHICLE"],
        acknowledged=["HEAD_DECEASED"],
    )
    assert "DIBAO_VEHICLE" in str(e) and not e.forbidden


def test_the_files_approved_are_the_files_submitted() -> None:
    refused("CHANGED", st.approve, submitted(), REVIEWER, files={**FILES, "payments.csv": "d" * 64})


def test_transitions_out_of_order_are_refused() -> None:
    refused("WRONG_STATE", st.approve, draft(), REVIEWER, files=FILES)
    refused("WRONG_STATE", st.send_back, draft(), REVIEWER, "x")
    refused("WRONG_STATE", st.submit, submitted(), MAKER)
    refused("WRONG_STATE", st.edit, submitted(), MAKER, FILES)
    refused("WRONG_STATE", st.release, submitted(), MAKER, unpaid=[])
    refused("WRONG_STATE", st.approve, approved(), Actor("zhou", "reviewer", "兴隆镇"), files=FILES)


def test_exporting_before_approval_is_refused_and_after_release_too() -> None:
    for r in (draft(), submitted(), st.send_back(submitted(), REVIEWER, "x")):
        refused("NOT_APPROVED", st.check_export, r)
    st.check_export(approved())  # no exception: the one state that exports
    refused("NOT_APPROVED", st.check_export, st.release(approved(), MAKER, unpaid=[]))


def test_an_approved_run_is_locked() -> None:
    r = approved()
    refused("LOCKED", st.edit, r, MAKER, {"payments.csv": "e" * 64})
    st.check_unchanged(r, FILES)
    e = refused("LOCKED", st.check_unchanged, r, {**FILES, "totals.csv": "f" * 64})
    assert "totals.csv" in str(e) and "payments.csv" not in str(e)
    refused("LOCKED", st.check_unchanged, r, {"payments.csv": FILES["payments.csv"]})
    st.check_unchanged(draft(), {"anything": "0"})  # a draft is not locked


def test_a_correction_is_a_new_run_naming_the_one_it_replaces() -> None:
    old = approved()
    new = st.correct(old, "run-2", MAKER, {"payments.csv": "9" * 64}, at="t5")
    assert new.state == State.DRAFT and new.replaces == "run-1" and new.run_id == "run-2"
    assert new.history[0].action == "correct" and "run-1" in new.history[0].reason
    assert old.state == State.APPROVED and old.locked == FILES
    refused("NOT_LOCKED", st.correct, submitted(), "run-3", MAKER, FILES)


def test_release_needs_every_unpaid_line_written_off_with_a_reason() -> None:
    r = approved()
    e = refused(
        "UNPAID", st.release, r, MAKER, unpaid=["seq 3", "seq 7"], written_off={"seq 3": "户主已死亡"}
    )
    assert "seq 7" in str(e) and "seq 3" not in str(e)
    refused("UNPAID", st.release, r, MAKER, unpaid=["seq 7"], written_off={"seq 7": "  "})
    done = st.release(r, REVIEWER, unpaid=["seq 7"], written_off={"seq 7": "银行账户注销,本人放弃", "x": "y"})
    assert done.state == State.RELEASED and done.written_off == {"seq 7": "银行账户注销,本人放弃"}
    refused("WRONG_TOWN", st.release, r, OTHER_TOWN_REVIEWER, unpaid=[])


def test_creating_a_run_takes_a_caseworker_of_the_town() -> None:
    refused("WRONG_TOWN", st.create, "r", "大观镇", MAKER, FILES)
    refused("WRONG_ROLE", st.create, "r", "兴隆镇", REVIEWER, FILES)
