"""Review and approval of a run (maker-checker) as pure functions: 草稿 → 已提交 → 已审核 → 已发放, or 已退回.

A caseworker (经办人) of the run's 乡镇 submits it; a reviewer (审核人) of the same 乡镇 who neither made nor
uploaded it approves it, once every warning shown is acknowledged, or sends it back with a reason. Approval locks
the run: the sha256 of its files are recorded and may never change (a correction is a new run naming the one it
replaces). The bank file is exported only from an approved run; the run becomes 已发放 when every line is paid
or written off with a reason. Each function returns a new `Release` with the event appended to its history, or
raises `Refused` (its `code` says why; `forbidden` tells "not you" from "not now"). Nothing here reads a clock,
a database or a file: the web app stores the record and logs each event.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum


class State(StrEnum):
    DRAFT = "草稿"
    SUBMITTED = "已提交"
    APPROVED = "已审核"
    RELEASED = "已发放"
    RETURNED = "已退回"


CASEWORKER, REVIEWER = "caseworker", "reviewer"
EDITABLE = (State.DRAFT, State.RETURNED)
LOCKED = (State.APPROVED, State.RELEASED)


class Refused(Exception):
    """A transition that is not allowed: `code` (stable), a message for a person, and whether the refusal is
    about who asks (`forbidden`, HTTP 403) or about the run's state (HTTP 409)."""

    def __init__(self, code: str, message: str, *, forbidden: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.forbidden = forbidden


@dataclass(frozen=True)
class Actor:
    user: str
    role: str  # caseworker (经办人) or reviewer (审核人); other roles change nothing
    town: str | None


@dataclass(frozen=True)
class Event:
    action: str  # create, edit, submit, approve, send_back, release, correct
    before: State | None
    after: State
    user: str
    reason: str = ""
    at: str = ""  # the caller's timestamp (no clock is read here)


@dataclass(frozen=True)
class Release:
    run_id: str
    town: str
    made_by: str
    uploaded_by: str
    files: Mapping[str, str]  # file name → sha256, as the run is now
    state: State = State.DRAFT
    locked: Mapping[str, str] | None = None  # the files approved: never change again
    acknowledged: frozenset[str] = frozenset()  # the warnings the reviewer acknowledged
    written_off: Mapping[str, str] = field(default_factory=dict)  # line → reason, at release
    replaces: str = ""  # the run this one corrects
    history: tuple[Event, ...] = ()

    def _to(
        self, state: State, action: str, actor: Actor, reason: str = "", at: str = "", **changes: object
    ) -> Release:
        event = Event(action, self.state, state, actor.user, reason, at)
        return replace(self, state=state, history=(*self.history, event), **changes)  # type: ignore[arg-type]


def _in_town(r: Release, actor: Actor, roles: tuple[str, ...], doing: str) -> None:
    if actor.role not in roles:
        names = "、".join({"caseworker": "经办人", "reviewer": "审核人"}[x] for x in roles)
        raise Refused("WRONG_ROLE", f"只有{names}可以{doing}", forbidden=True)
    if actor.town != r.town:
        raise Refused("WRONG_TOWN", f"运行属于 {r.town},{actor.user} 不是该乡镇的人员", forbidden=True)


def _state(r: Release, allowed: tuple[State, ...], doing: str) -> None:
    if r.state not in allowed:
        want = "或".join(s.value for s in allowed)
        raise Refused("WRONG_STATE", f"运行处于「{r.state.value}」,只有「{want}」的运行可以{doing}")


def create(
    run_id: str, town: str, actor: Actor, files: Mapping[str, str], *, uploaded_by: str = "", at: str = ""
) -> Release:
    """A new run in 草稿, made by `actor` (a caseworker of `town`) from a roster `uploaded_by` someone."""
    r = Release(run_id, town, actor.user, uploaded_by or actor.user, dict(files))
    _in_town(r, actor, (CASEWORKER,), "创建运行")
    return replace(r, history=(Event("create", None, State.DRAFT, actor.user, "", at),))


def correct(
    old: Release, run_id: str, actor: Actor, files: Mapping[str, str], *, uploaded_by: str = "", at: str = ""
) -> Release:
    """A new run in 草稿 that corrects `old`, an approved (locked) run: the old one is never changed."""
    if old.state not in LOCKED:
        raise Refused("NOT_LOCKED", f"运行处于「{old.state.value}」,尚未审核,直接修改即可,不必更正")
    r = create(run_id, old.town, actor, files, uploaded_by=uploaded_by, at=at)
    first = replace(r.history[0], action="correct", reason=f"更正 {old.run_id}")
    return replace(r, replaces=old.run_id, history=(first,))


def edit(r: Release, actor: Actor, files: Mapping[str, str], *, at: str = "") -> Release:
    """New files for a run in 草稿 or 已退回; an approved run is locked, a submitted one waits for review."""
    _in_town(r, actor, (CASEWORKER,), "修改运行")
    if r.state in LOCKED:
        raise Refused("LOCKED", f"运行已审核,已锁定,不能修改;请新建一个更正运行(注明更正 {r.run_id})")
    _state(r, EDITABLE, "修改")
    return r._to(r.state, "edit", actor, at=at, files=dict(files))


def submit(r: Release, actor: Actor, *, at: str = "") -> Release:
    """草稿 or 已退回 → 已提交, by a caseworker of the run's town."""
    _in_town(r, actor, (CASEWORKER,), "提交运行")
    _state(r, EDITABLE, "提交")
    return r._to(State.SUBMITTED, "submit", actor, at=at)


def approve(
    r: Release,
    actor: Actor,
    *,
    files: Mapping[str, str],
    warnings: Iterable[str] = (),
    acknowledged: Iterable[str] = (),
    at: str = "",
) -> Release:
    """已提交 → 已审核 by a reviewer of the town who neither made nor uploaded the run, every warning
    acknowledged and the files (as they are now) those submitted; they are locked."""
    _in_town(r, actor, (REVIEWER,), "审核运行")
    if actor.user in (r.made_by, r.uploaded_by):
        raise Refused("OWN_RUN", "不能审核自己计算或上传的运行:请另一位审核人审核", forbidden=True)
    _state(r, (State.SUBMITTED,), "审核")
    open_ = sorted(set(warnings) - set(acknowledged))
    if open_:
        raise Refused("UNACKNOWLEDGED", f"还有 {len(open_)} 条提示未确认:{'、'.join(open_[:5])}")
    if dict(files) != dict(r.files):
        raise Refused("CHANGED", "运行的文件与提交时不同,不能审核;请退回后重新提交")
    return r._to(
        State.APPROVED,
        "approve",
        actor,
        at=at,
        locked=dict(files),
        acknowledged=frozenset(acknowledged),
    )


def send_back(r: Release, actor: Actor, reason: str, *, at: str = "") -> Release:
    """已提交 → 已退回 with a reason, by a reviewer of the town."""
    _in_town(r, actor, (REVIEWER,), "退回运行")
    _state(r, (State.SUBMITTED,), "退回")
    if not reason.strip():
        raise Refused("NO_REASON", "退回必须写明原因")
    return r._to(State.RETURNED, "send_back", actor, reason.strip(), at)


def check_export(r: Release) -> None:
    """The bank file may be exported only from an approved run that is not yet fully paid."""
    if r.state != State.APPROVED:
        raise Refused("NOT_APPROVED", f"运行处于「{r.state.value}」,审核通过(已审核)后才能导出代发文件")


def check_unchanged(r: Release, files: Mapping[str, str]) -> None:
    """An approved run's files are the ones approved, byte for byte (their sha256)."""
    if r.locked is not None and dict(files) != dict(r.locked):
        changed = sorted(k for k in set(files) | set(r.locked) if files.get(k) != r.locked.get(k))
        raise Refused("LOCKED", f"已审核的运行被改动:{'、'.join(changed)} 与审核时不同")


def release(
    r: Release,
    actor: Actor,
    *,
    unpaid: Iterable[str],
    written_off: Mapping[str, str] | None = None,
    at: str = "",
) -> Release:
    """已审核 → 已发放 when every line the reconciliation left unpaid (`unpaid`: failed, held back or
    unresolved) is written off with a reason; by a caseworker or reviewer of the town."""
    _in_town(r, actor, (CASEWORKER, REVIEWER), "确认发放")
    _state(r, (State.APPROVED,), "确认发放")
    offs = {k: v.strip() for k, v in (written_off or {}).items()}
    left = sorted(k for k in set(unpaid) if not offs.get(k))
    if left:
        raise Refused("UNPAID", f"还有 {len(left)} 笔未发放,也未注明核销原因:{'、'.join(left[:5])}")
    kept = {k: offs[k] for k in sorted(set(unpaid))}
    reason = f"核销 {len(kept)} 笔" if kept else ""
    return r._to(State.RELEASED, "release", actor, reason, at, written_off=kept)
