"""Request dependencies shared by the routers: the database session, the signed-in user, visible records."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from subsidy_engine.web.auth import current_user, town_filter
from subsidy_engine.web.models import Check, Run, Upload, User


def get_db(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as db:
        yield db


DB = Annotated[Session, Depends(get_db)]


def signed_in(request: Request, db: DB) -> User:
    user = current_user(request, db)
    request.state.user = user
    return user


CurrentUser = Annotated[User, Depends(signed_in)]


def data_dir(request: Request) -> Path:
    path: Path = request.app.state.settings.data_dir
    return path


def visible_upload(db: Session, user: User, upload_id: str) -> Upload:
    upload = db.get(Upload, upload_id)
    if upload is None or not town_filter(user)(upload.town):
        raise HTTPException(404)
    return upload


def visible_run(db: Session, user: User, run_id: str) -> Run:
    run = db.get(Run, run_id)
    if run is None or not town_filter(user)(run.town):
        raise HTTPException(404)
    return run


def visible_check(db: Session, user: User, check_id: str) -> Check:
    check = db.get(Check, check_id)
    if check is None or user.role != "auditor":
        raise HTTPException(404)
    return check
