"""The payment list page of a run: search by 姓名 / 证件号码 / 户编号, filters by 行政村 and 项目, 50 lines a page.

The search term is posted, never put in a URL: the POST answers with a redirect to an address holding only the
term's keyed token (services/paylist.py), so the browser's history, the server's access log and a copied link
never hold a 证件号码 or a name. 证件号码 are masked on the page. The list is read from the stored payments.csv
through its recorded sha256, parsed once per run and kept in a small cache.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select as sql

from subsidy_engine.web import labels
from subsidy_engine.web.auth import check_csrf
from subsidy_engine.web.deps import DB, CurrentUser, data_dir, visible_run
from subsidy_engine.web.models import Run, StoredFile
from subsidy_engine.web.routes.downloads import stored_bytes
from subsidy_engine.web.services.paylist import (
    PAGE_SIZE,
    Cache,
    PayList,
    is_token,
    normal,
    page_links,
    search_token,
    select,
)
from subsidy_engine.web.templating import render

router = APIRouter(dependencies=[Depends(check_csrf)])


def paylist(request: Request, db: DB, run: Run) -> PayList:
    """The run's parsed list, from the cache while the stored file is the one read last time."""
    if run.status != "done":
        raise HTTPException(404)
    stored = db.scalar(sql(StoredFile).where(StoredFile.run_id == run.id, StoredFile.kind == "payments.csv"))
    if stored is None:
        raise HTTPException(404)
    try:
        st = (data_dir(request) / stored.path).stat()
    except OSError:
        raise HTTPException(404) from None
    cache: Cache | None = getattr(request.app.state, "paylists", None)
    if cache is None:
        cache = request.app.state.paylists = Cache()
    secret = request.app.state.settings.secret_key
    key = (run.id, stored.sha256, st.st_size, st.st_mtime_ns)
    return cache.get(key, lambda: PayList.parse(stored_bytes(request, db, run, "payments.csv"), secret))


def address(run: Run, **query: object) -> str:
    kept = {k: v for k, v in query.items() if v not in ("", None, 1)}
    return f"/runs/{run.id}/payments" + (f"?{urlencode(kept)}" if kept else "")


@router.get("/runs/{run_id}/payments")
def payments(
    request: Request,
    db: DB,
    user: CurrentUser,
    run_id: str,
    k: str = "",
    village: str = "",
    program: str = "",
    page: str = "1",
) -> Response:
    run = visible_run(db, user, run_id)
    if k and not is_token(k):
        raise HTTPException(400, "查询条件无效,请在页面上重新输入")
    plist = paylist(request, db, run)
    number = int(page) if page.isdigit() else 1
    got = select(plist, token=k, village=village, program=program, page=number)
    titles = labels.program_titles()
    links = [
        {"n": n, "href": address(run, k=k, village=village, program=program, page=n) if n else ""}
        for n in page_links(got.page, got.pages)
    ]

    def near(n: int) -> str:
        return address(run, k=k, village=village, program=program, page=n)

    return render(
        request,
        "payments.html",
        {
            "run": run,
            "got": got,
            "rows": [{**r, "项目名称": titles.get(r["项目"], r["项目"])} for r in got.rows],
            "first": (got.page - 1) * PAGE_SIZE + 1,
            "k": k,
            "village": village,
            "program": program,
            "villages": plist.villages(by_town=not run.town),
            "programs": [(p, titles.get(p, p)) for p in plist.programs()],
            "links": links,
            "previous": near(got.page - 1) if got.page > 1 else "",
            "next": near(got.page + 1) if got.page < got.pages else "",
            "clear": address(run, village=village, program=program),
            "by_town": not run.town,
        },
    )


@router.post("/runs/{run_id}/payments")
def search(
    request: Request,
    db: DB,
    user: CurrentUser,
    run_id: str,
    q: Annotated[str, Form()] = "",
    village: Annotated[str, Form()] = "",
    program: Annotated[str, Form()] = "",
    k: Annotated[str, Form()] = "",
) -> Response:
    """The form: a term typed becomes its keyed token (else the current search `k` stays), the filters stay
    as they are (no personal data in them)."""
    run = visible_run(db, user, run_id)
    token = search_token(request.app.state.settings.secret_key, q) if normal(q) else k
    if token and not is_token(token):
        raise HTTPException(400, "查询条件无效,请在页面上重新输入")
    return RedirectResponse(address(run, k=token, village=village, program=program), status_code=303)
