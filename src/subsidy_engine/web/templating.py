"""The pages' templates and how a page is rendered: labels and masking installed, the form cookie set, the error
page without a request, and the headers every page gets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from subsidy_engine.web import labels
from subsidy_engine.web.auth import csrf_token, set_form_cookie
from subsidy_engine.web.gate import SECURITY_HEADERS
from subsidy_engine.web.masking import finalize, mask_text
from subsidy_engine.web.models import ROLE_TEXT

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.globals["ROLE_TEXT"] = ROLE_TEXT
templates.env.filters["mask"] = mask_text
labels.install(templates.env)  # 6,393,238.00, program and reason titles (labels.py)
templates.env.finalize = finalize  # every {{ … }} on every page: ID-shaped text masked (masking.py)
# what every response gets (gate.py adds it); a route that needs another policy builds it from this one
PAGE_HEADERS = {"-".join(w.capitalize() for w in k.split("-")): v for k, v in SECURITY_HEADERS.items()}
PAGE_HEADERS["Cache-Control"] = "no-store"


def render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    ctx = {"user": getattr(request.state, "user", None), "csrf": Markup(csrf_token(request)), **context}
    resp = templates.TemplateResponse(request, name, ctx, status_code=status)
    set_form_cookie(request, resp)
    return resp


def error_page(status: int, message: str) -> str:
    """The error page without a request (the gate's refusals, the last-resort 500)."""
    return templates.get_template("error.html").render(status=status, message=message, user=None, csrf="")
