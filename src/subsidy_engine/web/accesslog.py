"""The access log: an append-only, hash-chained record of who did what, when, from where, with what result.

Every entry's `hash` is sha256(previous entry's hash + the entry's canonical content) — the canonical content
is the JSON array of its id, time, user, address, action, target, detail and result — so editing, removing
or reordering a row breaks the chain from that row on (`subsidy log verify`). Appends are serialised (SQLite:
`BEGIN IMMEDIATE`; PostgreSQL: a transaction-level advisory lock), each in its own short transaction, so the
chain never forks when several processes write. The app has no route that changes or deletes an entry, and
database triggers refuse UPDATE and DELETE on the table. ID-shaped text in the detail is masked.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, text

from subsidy_engine.web.masking import mask_text
from subsidy_engine.web.models import AccessEntry, User, utcnow

GENESIS = "0" * 64
LOCK_KEY = 0x5B51D7  # PostgreSQL advisory lock of the log's appends
FIELDS = ("id", "at", "user_id", "user_name", "address", "action", "target", "detail", "result")
ACTION_TEXT = {
    "signin": "登录",
    "signin_failed": "登录失败",
    "signin_limited": "登录受限",
    "upload": "上传名册",
    "run": "提交计算",
    "run_cancel": "取消计算",
    "run_finished": "计算结束",
    "download": "下载含完整证件号码的文件",
    "explain": "解释查询",
    "rerun": "审计重算",
    "diff": "实发名单比对",
    "user_add": "新增用户",
    "user_active": "启用/停用用户",
    "password": "修改密码",
    "token_new": "新建接口令牌",
    "token_revoke": "吊销接口令牌",
    "api": "接口调用",
    "release_submit": "提交审核",
    "release_approve": "审核通过",
    "release_return": "审核退回",
    "release_done": "确认发放",
    "bank_export": "导出代发文件",
    "bank_reissue": "导出补发批次",
    "bank_reconcile": "银行回盘对账",
}


def canonical(values: dict[str, Any]) -> str:
    return json.dumps([values[f] for f in FIELDS], ensure_ascii=False, separators=(",", ":"))


def chain(prev: str, values: dict[str, Any]) -> str:
    return hashlib.sha256((prev + canonical(values)).encode("utf-8")).hexdigest()


def _lock(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})


def record(
    engine: Engine,
    *,
    user: User | Any | None,
    address: str,
    action: str,
    target: str = "",
    detail: dict[str, Any] | None = None,
    result: str = "ok",
    user_name: str | None = None,
) -> int:
    """Append one entry (committed at once, in its own transaction); its id."""
    values: dict[str, Any] = {
        "at": utcnow().isoformat(timespec="microseconds"),
        "user_id": user.id if user is not None else None,
        "user_name": (user.name if user is not None else (user_name or ""))[:64],
        "address": (address or "?")[:64],
        "action": action[:32],
        "target": mask_text(target)[:255],
        "detail": mask_text(json.dumps(detail or {}, ensure_ascii=False, sort_keys=True)),
        "result": str(result)[:32],
    }
    with engine.connect() as conn:
        _lock(conn)
        last = conn.execute(
            select(AccessEntry.id, AccessEntry.hash).order_by(AccessEntry.id.desc()).limit(1)
        ).first()
        values["id"] = (last.id + 1) if last else 1
        values["prev_hash"] = last.hash if last else GENESIS
        values["hash"] = chain(values["prev_hash"], values)
        conn.execute(insert(AccessEntry).values(**values))
        conn.commit()
    return int(values["id"])


@dataclass(frozen=True)
class Broken:
    id: int
    reason: str


def record_command(engine: Engine, action: str, target: str, detail: dict[str, Any] | None = None) -> int:
    """Append what a command on the server's own machine did (no signed-in user, address `local`)."""
    return record(
        engine, user=None, user_name="(命令行)", address="local", action=action, target=target, detail=detail
    )


def verify(engine: Engine) -> tuple[int, Broken | None]:
    """Walk the chain in id order: (entries checked, the first broken entry or None)."""
    prev, expected_id, n = GENESIS, 1, 0
    with engine.connect() as conn:
        for row in conn.execute(select(AccessEntry).order_by(AccessEntry.id)).mappings():
            values = {f: row[f] for f in FIELDS}
            if row["id"] != expected_id:
                return n, Broken(int(row["id"]), f"编号不连续:应为 {expected_id}(之前的条目被删除)")
            if row["prev_hash"] != prev:
                return n, Broken(int(row["id"]), "前一条的散列值不符(之前的条目被改动或删除)")
            if chain(prev, values) != row["hash"]:
                return n, Broken(int(row["id"]), "本条内容与散列值不符(本条被改动)")
            prev, expected_id, n = row["hash"], expected_id + 1, n + 1
    return n, None


def entries(
    engine: Engine,
    *,
    since: str = "",
    until: str = "",
    action: str = "",
    user: str = "",
    target: str = "",
    limit: int | None = None,
) -> Iterator[dict[str, Any]]:
    """Entries in id order, filtered: `since`/`until` compare with the ISO time (a date is enough)."""
    query = select(AccessEntry).order_by(AccessEntry.id.desc() if limit else AccessEntry.id)
    if since:
        query = query.where(AccessEntry.at >= since)
    if until:
        query = query.where(AccessEntry.at < until + "\uffff")
    if action:
        query = query.where(AccessEntry.action == action)
    if user:
        query = query.where(AccessEntry.user_name == user)
    if target:
        query = query.where(AccessEntry.target.contains(target))
    if limit:
        query = query.limit(limit)
    with engine.connect() as conn:
        for row in conn.execute(query).mappings():
            yield dict(row)


def export_csv(engine: Engine, since: str = "") -> str:
    """The log from `since` (a date or an ISO time) as CSV text, with the hashes so it can be re-checked."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    cols = (*FIELDS, "prev_hash", "hash")
    w.writerow(cols)
    for e in entries(engine, since=since):
        w.writerow(["" if e[c] is None else e[c] for c in cols])
    return out.getvalue()


TRIGGERS = {
    "sqlite": [
        "CREATE TRIGGER access_log_no_update BEFORE UPDATE ON access_log "
        "BEGIN SELECT RAISE(ABORT, 'access_log is append-only'); END",
        "CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_log "
        "BEGIN SELECT RAISE(ABORT, 'access_log is append-only'); END",
    ],
    "postgresql": [
        "CREATE FUNCTION access_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'access_log is append-only'; END $$",
        "CREATE TRIGGER access_log_no_change BEFORE UPDATE OR DELETE ON access_log "
        "FOR EACH ROW EXECUTE FUNCTION access_log_append_only()",
    ],
}
