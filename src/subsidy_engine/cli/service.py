"""The service's commands: `subsidy worker`, `subsidy log verify|export`, `subsidy users token`; `register(main)`.

Exit codes: 0 done; 1 the access log's chain is broken (the first broken entry is named); 2 wrong usage.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import sys
import threading
from pathlib import Path

import click

from subsidy_engine.cli.web import DATA, users


@click.command("worker")
@click.option("--once", is_flag=True, help="只处理已排队的任务,队列空了就退出")
@DATA
def worker(once: bool, data: Path | None) -> None:
    """计算进程:从数据库的队列中领取计算任务并执行(subsidy serve 默认自带一个)。"""
    from subsidy_engine.web.config import load_settings  # late: start-up, web stack
    from subsidy_engine.web.store import make_engine, sessions, upgrade  # late: start-up, web stack
    from subsidy_engine.web.worker import drain, reap, work, worker_name  # late: start-up, web stack

    os.umask(0o077)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = load_settings(data)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    if once:
        factory = sessions(engine)
        reap(factory, settings, me=worker_name())
        n = drain(factory, settings)
        engine.dispose()
        click.echo(f"已处理 {n} 个任务", err=True)
        return
    engine.dispose()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    work(settings, stop)


@click.group("log")
def log_group() -> None:
    """访问日志:校验散列链、导出。"""


def _engine(data: Path | None):  # type: ignore[no-untyped-def]
    from subsidy_engine.web.config import load_settings  # late: start-up, web stack
    from subsidy_engine.web.store import make_engine, upgrade  # late: start-up, web stack

    engine = make_engine(load_settings(data).database_url)
    upgrade(engine)
    return engine


@log_group.command("verify")
@DATA
def log_verify(data: Path | None) -> None:
    """校验访问日志的散列链:完整则退出码 0,否则 1 并指出第一条被改动或删除的记录。"""
    from subsidy_engine.web.accesslog import verify  # late: start-up, web stack

    engine = _engine(data)
    n, broken = verify(engine)
    engine.dispose()
    if broken is not None:
        click.echo(f"访问日志第 {broken.id} 条校验失败:{broken.reason}(此前 {n} 条完好)", err=True)
        sys.exit(1)
    click.echo(f"访问日志完好:{n} 条记录,散列链无断裂")


@log_group.command("export")
@click.option("--since", required=True, help="起始日期 YYYY-MM-DD(含)")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), help="写入文件(默认标准输出)")
@DATA
def log_export(since: str, out: Path | None, data: Path | None) -> None:
    """把访问日志导出为 CSV(含每条的散列值,可在别处复核)。"""
    from subsidy_engine.web.accesslog import export_csv  # late: start-up, web stack

    try:
        dt.date.fromisoformat(since[:10])
    except ValueError:
        raise click.BadParameter(f"日期应写成 YYYY-MM-DD,而不是 {since!r}", param_hint="--since") from None
    engine = _engine(data)
    text = export_csv(engine, since)
    engine.dispose()
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")


@users.command("token")
@click.argument("name")
@click.option("--revoke", is_flag=True, help="吊销该用户的全部接口令牌(不生成新令牌)")
@DATA
def users_token(name: str, revoke: bool, data: Path | None) -> None:
    """为用户 NAME 生成一个接口令牌(最后一行输出;只保存其散列),或用 --revoke 吊销其全部令牌。"""
    from sqlalchemy import select  # late: start-up, web stack

    from subsidy_engine.web import accesslog  # late: start-up, web stack
    from subsidy_engine.web.models import User  # late: start-up, web stack
    from subsidy_engine.web.store import sessions  # late: start-up, web stack
    from subsidy_engine.web.tokens import new_token, revoke_tokens  # late: start-up, web stack

    engine = _engine(data)
    with sessions(engine)() as db:
        user = db.scalar(select(User).where(User.name == name))
        if user is None:
            raise click.UsageError(f"没有用户 {name}")
        if revoke:
            n = revoke_tokens(db, user)
            db.commit()
            accesslog.record_command(engine, "token_revoke", f"user:{user.id} {user.name}", {"tokens": n})
            click.echo(f"已吊销用户 {name} 的 {n} 个接口令牌")
        else:
            token = new_token(db, user)
            db.commit()
            accesslog.record_command(engine, "token_new", f"user:{user.id} {user.name}")
            click.echo(
                f"用户 {name} 的新接口令牌(只显示这一次;请求时带 Authorization: Bearer 令牌):", err=True
            )
            click.echo(token)
    engine.dispose()


COMMANDS = (worker, log_group)


def register(group: click.Group) -> click.Group:
    for cmd in COMMANDS:
        group.add_command(cmd)
    return group
