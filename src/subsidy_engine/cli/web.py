"""The web app's commands: `subsidy serve`, `subsidy users add|list`, `subsidy db upgrade`; `register(main)`
(the service's `worker`, `log` and `users token` are in cli/service.py).

Settings come from the options, else the environment (web/config.py: SUBSIDY_DATA, DATABASE_URL, ...).
Exit codes: 0 done; 2 wrong usage or a user that cannot be created as asked.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import click

from subsidy_engine.cli.texttable import table

DATA = click.option(
    "--data",
    "data",
    type=click.Path(file_okay=False, path_type=Path),
    help="数据目录(默认 $SUBSIDY_DATA 或 ./data)",
)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="监听地址")
@click.option("--port", default=8000, show_default=True, help="端口")
@click.option(
    "--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="网页进程数(uvicorn)"
)
@click.option(
    "--job-workers",
    default=1,
    show_default=True,
    type=click.IntRange(0, 64),
    help="同时启动的计算进程数(0:另行运行 subsidy worker)",
)
@DATA
def serve(host: str, port: int, workers: int, job_workers: int, data: Path | None) -> None:
    """启动网页版(乡镇经办人与审计人员使用);数据库默认是数据目录中的 SQLite,设置 DATABASE_URL 则用 PostgreSQL。

    计算在计算进程中排队执行(默认随网页版启动一个;也可在别处运行 subsidy worker)。"""
    import uvicorn  # late: start-up, web stack

    from subsidy_engine.web.app import MaskIds, create_app  # late: start-up, web stack
    from subsidy_engine.web.config import load_settings  # late: start-up, web stack
    from subsidy_engine.web.store import make_engine, upgrade  # late: start-up, web stack

    os.umask(0o077)  # every file the server writes (database, journals, uploads, runs) is the owner's only
    try:
        settings = load_settings(data)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    engine = make_engine(settings.database_url)
    upgrade(engine)  # once, here, before any web process or worker starts
    engine.dispose()
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).addFilter(MaskIds())
    cmd = [sys.executable, "-m", "subsidy_engine.cli", "worker", "--data", str(settings.data_dir)]
    children = [subprocess.Popen(cmd, stdin=subprocess.DEVNULL) for _ in range(job_workers)]
    click.echo(
        f"数据目录 {settings.data_dir};{workers} 个网页进程,{job_workers} 个计算进程;打开 http://{host}:{port}/",
        err=True,
    )
    try:
        # X-Forwarded-For is judged by the app itself (SUBSIDY_TRUSTED_PROXIES), never by uvicorn's own default
        if workers == 1:
            app = create_app(settings, migrate=False)
            config = uvicorn.Config(app, host=host, port=port, log_level="info", proxy_headers=False)
            uvicorn.Server(config).run()
        else:  # every process reads its settings from the environment; all state is in the database
            os.environ["SUBSIDY_DATA"] = str(settings.data_dir)
            uvicorn.run(
                "subsidy_engine.web.app:app_from_environment",
                factory=True,
                host=host,
                port=port,
                workers=workers,
                log_level="info",
                proxy_headers=False,
            )
    finally:
        for child in children:
            child.terminate()
        for child in children:
            try:
                child.wait(30)
            except subprocess.TimeoutExpired:
                child.kill()


@click.group("users")
def users() -> None:
    """网页版用户:新增、列出。"""


@users.command("add")
@click.argument("name")
@click.option(
    "--role", required=True, type=click.Choice(["caseworker", "reviewer", "auditor", "admin"]), help="角色"
)
@click.option("--town", help="乡镇(乡镇经办人、审核人必填)")
@click.option("--password-stdin", is_flag=True, help="从标准输入读取密码(一行),不提示")
@DATA
def users_add(name: str, role: str, town: str | None, password_stdin: bool, data: Path | None) -> None:
    """新增用户 NAME(密码用 argon2 散列后保存)。第一个管理员用它创建。"""
    from subsidy_engine.web.auth import UserError, create_user  # late: start-up, web stack
    from subsidy_engine.web.config import load_settings  # late: start-up, web stack
    from subsidy_engine.web.store import make_engine, sessions, upgrade  # late: start-up, web stack

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("密码", hide_input=True, confirmation_prompt="再输入一次")
    engine = make_engine(load_settings(data).database_url)
    try:  # a refused user closes the connections too
        upgrade(engine)
        with sessions(engine)() as db:
            try:
                user = create_user(db, name, password, role, town)
            except UserError as exc:
                raise click.UsageError(str(exc)) from None
            db.commit()
            from subsidy_engine.web import accesslog  # late: start-up, web stack

            accesslog.record_command(
                engine, "user_add", f"user:{user.id} {user.name}", {"role": user.role, "town": user.town}
            )
            click.echo(f"已新增用户 {user.name}({user.role}{',' + user.town if user.town else ''})")
    finally:
        engine.dispose()


@users.command("list")
@DATA
def users_list(data: Path | None) -> None:
    """列出用户:用户名、角色、乡镇、状态。"""
    from sqlalchemy import select  # late: start-up, web stack

    from subsidy_engine.web.config import load_settings  # late: start-up, web stack
    from subsidy_engine.web.models import User  # late: start-up, web stack
    from subsidy_engine.web.store import make_engine, sessions, upgrade  # late: start-up, web stack

    engine = make_engine(load_settings(data).database_url)
    upgrade(engine)
    with sessions(engine)() as db:
        rows = [["用户名", "角色", "乡镇", "状态"]]
        for u in db.scalars(select(User).order_by(User.name)):
            rows.append([u.name, u.role, u.town or "", "启用" if u.active else "停用"])
    engine.dispose()
    click.echo(table(rows))


@click.group("db")
def db() -> None:
    """网页版的数据库。"""


@db.command("upgrade")
@DATA
def db_upgrade(data: Path | None) -> None:
    """把数据库结构升级到最新(Alembic 迁移;serve 启动时也会自动执行)。"""
    from subsidy_engine.web.config import load_settings  # late: start-up, web stack
    from subsidy_engine.web.store import make_engine, upgrade  # late: start-up, web stack

    engine = make_engine(load_settings(data).database_url)
    upgrade(engine)
    engine.dispose()
    click.echo("数据库结构已是最新")


COMMANDS = (serve, users, db)


def register(group: click.Group) -> click.Group:
    """Add serve, users and db to `group`."""
    for cmd in COMMANDS:
        group.add_command(cmd)
    return group
