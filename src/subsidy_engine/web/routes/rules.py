"""The 规则与标准 page (the policy handbook of `subsidy rules book`) and the empty roster template download."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from subsidy_engine.handbook.book import build
from subsidy_engine.handbook.render import CSS, page
from subsidy_engine.roster.template import template_bytes
from subsidy_engine.rulebook.load import load_rulebook
from subsidy_engine.web.deps import CurrentUser
from subsidy_engine.web.templating import PAGE_HEADERS

router = APIRouter()
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/rules")
def handbook(request: Request, user: CurrentUser, date: str = "") -> Response:
    """The same self-contained page as `subsidy rules book`, with a bar to go back and to mark a date."""
    on = None
    if date:
        try:
            on = dt.date.fromisoformat(date)
        except ValueError:
            raise HTTPException(400, f"{date!r} 不是日期(YYYY-MM-DD)") from None
    bar = (
        '<form method="get" action="/rules" class="bar"><a href="/">返回</a> '
        f'<label>标出当日有效的参数 <input type="date" name="date" value="{on or ""}"></label> '
        '<button type="submit">标出</button></form>'
    )
    text = page(build(load_rulebook(), on), bar=bar)
    digest = base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode()
    headers = dict(PAGE_HEADERS)  # the page's one inline style is allowed by its hash, nothing else
    headers["Content-Security-Policy"] = re.sub(
        r"style-src 'self'", f"style-src 'self' 'sha256-{digest}'", headers["Content-Security-Policy"]
    )
    return HTMLResponse(text, headers=headers)


@router.get("/roster-template.xlsx")
def roster_template(user: CurrentUser) -> Response:
    headers = dict(PAGE_HEADERS)
    headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote('名册模板.xlsx')}"
    return Response(template_bytes(), media_type=XLSX, headers=headers)
