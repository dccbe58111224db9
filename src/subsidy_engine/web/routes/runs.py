"""Run history per town, the run page (totals, charts, downloads), file downloads and explain."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import FileResponse, Response
from markupsafe import Markup, escape
from sqlalchemy import select

from subsidy_engine.engines.explain import Explainer, named, render_text
from subsidy_engine.engines.explain import select as pick
from subsidy_engine.engines.plain import render_plain
from subsidy_engine.errors import SubsidyError
from subsidy_engine.periods import parse_period
from subsidy_engine.privacy import mask_id
from subsidy_engine.roster.read import read_roster
from subsidy_engine.roster.validate import validate
from subsidy_engine.rulebook.load import load_rulebook
from subsidy_engine.web import labels
from subsidy_engine.web.auth import check_csrf, town_clause
from subsidy_engine.web.charts import bar_chart
from subsidy_engine.web.deps import DB, CurrentUser, data_dir, visible_run
from subsidy_engine.web.jobs import job_view
from subsidy_engine.web.masking import mask_text, scrub_paths
from subsidy_engine.web.models import Check, Job, Run, StoredFile, Upload, User
from subsidy_engine.web.routes.service import log_event, visible_job
from subsidy_engine.web.services import bank, release
from subsidy_engine.web.services.runs import RUN_FILES
from subsidy_engine.web.store import sha256_file
from subsidy_engine.web.templating import render

router = APIRouter(dependencies=[Depends(check_csrf)])
FULL_ID_FILES = ("payments.csv", "payments.xlsx")


def current_runs(runs: list[Run]) -> set[str]:
    """The run in force per (乡镇, 期间): the newest that finished; the others stay for the record."""
    seen: dict[tuple[str, str], str] = {}
    for r in sorted(runs, key=lambda r: r.created_at, reverse=True):
        if r.status == "done":
            seen.setdefault((r.town or "", r.period), r.id)
    return set(seen.values())


@router.get("/runs")
def runs(request: Request, db: DB, user: CurrentUser, town: str = "") -> Response:
    visible = db.scalars(select(Run).where(town_clause(user, Run.town)).order_by(Run.created_at.desc())).all()
    towns = sorted({r.town or "" for r in visible})
    current = current_runs(list(visible))
    if town:
        visible = [r for r in visible if (r.town or "") == town]
    names = dict(db.execute(select(User.id, User.name)).all())
    rosters = dict(
        db.execute(select(Upload.id, Upload.original_name).where(town_clause(user, Upload.town))).all()
    )
    rows = [
        {
            "run": r,
            "current": r.id in current,
            "operator": names.get(r.user_id, ""),
            "roster": rosters.get(r.upload_id, ""),
        }
        for r in visible
    ]
    return render(request, "runs.html", {"rows": rows, "towns": towns, "town": town})


@router.get("/runs/{run_id}")
def run_page(request: Request, db: DB, user: CurrentUser, run_id: str) -> Response:
    if db.get(Run, run_id) is None and db.get(Job, run_id) is not None:  # queued, running, or it never ended
        job = visible_job(db, user, run_id)
        view = job_view(job)
        upload = db.get(Upload, job.upload_id)
        return render(request, "job.html", {"job": job, "view": view, "upload": upload})
    run = visible_run(db, user, run_id)
    upload = db.get(Upload, run.upload_id)
    charts = {}
    programs, villages = [], []
    if run.totals:
        titles = labels.program_titles()
        programs = [{**p, "项目名称": titles.get(p["项目"], p["项目名称"])} for p in run.totals["programs"]]
        villages = run.totals["villages"]
        charts["programs"] = bar_chart(
            [(p["项目名称"], p["金额"]) for p in programs], "各项目金额(元,从高到低)", "chart-programs"
        )
        charts["villages"] = bar_chart(
            [(v["行政村"], v["金额"]) for v in villages], "各行政村金额(元,从高到低)", "chart-villages"
        )
    checks = db.scalars(select(Check).where(Check.run_id == run.id).order_by(Check.created_at.desc())).all()
    same = db.scalars(select(Run).where(Run.town == run.town, Run.period == run.period)).all()
    operator = db.get(User, run.user_id)
    kinds = set(db.scalars(select(StoredFile.kind).where(StoredFile.run_id == run.id)))
    assumed = (run.manifest or {}).get("assumed_parameters") or []
    stem, base = f"/runs/{run.id}/download", f"/runs/{run.id}/files"
    return render(
        request,
        "run.html",
        {
            "run": run,
            "upload": upload,
            "operator": operator.name if operator else "",
            "current": run.id in current_runs(list(same)),
            "left_out": upload.households_rejected if upload else 0,
            "programs": programs,
            "villages": villages,
            "charts": charts,
            "assumed": [{"code": a, "text": labels.param_note(a)} for a in assumed],
            "downloads": [
                {"href": f"{stem}/payments.xlsx", "kind": "payments.xlsx", "label": "发放名单(Excel)"},
                {
                    "href": f"{stem}/payments-excel.csv",
                    "kind": "payments-excel.csv",
                    "label": "发放名单(CSV,Excel 可直接打开)",
                },
                {"href": f"/runs/{run.id}/publicity", "kind": "publicity", "label": "公示(按村打印)"},
                {"href": f"{stem}/publicity.xlsx", "kind": "publicity.xlsx", "label": "公示名单(Excel)"},
                {"href": f"{stem}/totals.csv", "kind": "totals-excel.csv", "label": "汇总(CSV)"},
            ],
            "machine": [
                {"href": f"{base}/{k}", "kind": k, "label": label}
                for k, (label, _, _) in RUN_FILES.items()
                if k in kinds and k != "payments.xlsx"
            ],
            "checks": checks,
            "release": release.panel(db, run, user),
            "bank": bank.bank_panel(db, run, user),
        },
    )


def send_file(data: Path, stored: StoredFile | None, media: str, name: str) -> Response:
    if stored is None:
        raise HTTPException(404)
    path = (data / stored.path).resolve()
    if not path.is_relative_to(data) or not path.is_file():
        raise HTTPException(404)
    if sha256_file(path) != stored.sha256:
        raise HTTPException(409, "存储的文件与记录的校验值不一致(文件被改动过),已拒绝下载;请联系管理员")
    return FileResponse(path, media_type=media, filename=name)  # the gate adds no-store and the rest


@router.get("/runs/{run_id}/files/{kind}")
def download(request: Request, db: DB, user: CurrentUser, run_id: str, kind: str) -> Response:
    run = visible_run(db, user, run_id)
    if kind not in RUN_FILES:
        raise HTTPException(404)
    stored = db.scalar(select(StoredFile).where(StoredFile.run_id == run.id, StoredFile.kind == kind))
    _, rel, media = RUN_FILES[kind]
    name = f"{run.town or '多个乡镇'}-{run.period}-{rel.replace('/', '-')}"
    response = send_file(data_dir(request), stored, media, name)
    if kind in FULL_ID_FILES:  # the bank list holds whole 证件号码: who took it is recorded
        log_event(request, user, "download", f"run:{run.id} {kind}")
    return response


@router.post("/runs/{run_id}/explain")
def explain(
    request: Request,
    db: DB,
    user: CurrentUser,
    run_id: str,
    person: Annotated[str, Form()] = "",
    household: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
) -> Response:
    """POST, so the 证件号码 asked never appears in a URL, a browser history or an access log. By 姓名 the
    look-up is within this run's roster (so within the caseworker's town); several matches are listed, masked,
    to choose a household from."""
    run = visible_run(db, user, run_id)
    upload = db.get(Upload, run.upload_id)
    person, household, name = person.strip().upper(), household.strip(), name.strip()
    if upload is None or run.status != "done":
        raise HTTPException(404)
    if sum(map(bool, (person, household, name))) != 1:
        raise HTTPException(400, "请填写证件号码、户编号或姓名(三选一)")
    log_event(
        request,
        user,
        "explain",
        f"run:{run.id}",
        detail={"person": person, "household": household, "name": name},
    )
    roster = data_dir(request) / upload.path
    try:
        persons = validate(read_roster(roster)).persons
        if name:
            hits = named(persons, name)
            if not hits:
                raise HTTPException(404, f"名册的有效行中没有姓名为 {name} 的人(不存在或所在户被拒绝)")
            if len(hits) > 1:
                for h in hits:
                    h["证件号码"] = mask_id(h["证件号码"])
                return render(request, "explain.html", {"run": run, "name": name, "choices": hits})
            person = hits[0]["证件号码"]
        members, asked = pick(persons, person=person or None, household=household or None)
        if len(members) == 0:
            what = "该证件号码" if person else f"户编号 {household}"
            raise HTTPException(404, f"名册的有效行中没有{what}(不存在或所在户被拒绝)")
        report = Explainer(load_rulebook()).explain(members, parse_period(run.period), asked)
    except SubsidyError as exc:
        raise HTTPException(400, scrub_paths(str(exc), {roster: upload.original_name})) from None
    # the person asked is shown with the whole number (typed, or found by name); other ID-shaped text is masked
    keep = [person] if person else []
    context = {
        "run": run,
        "text": Markup(escape(mask_text(render_plain(report), keep=keep))),
        "trace": Markup(escape(mask_text(render_text(report), keep=keep))),
    }
    return render(request, "explain.html", context)
