"""The store's schema: the Alembic migrations build exactly the tables the models declare, on both databases."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from conftest import ROOT
from subsidy_engine.web.config import SETTINGS_DOC
from subsidy_engine.web.models import Base


def test_the_migrations_give_the_models_schema(app: Any) -> None:
    with app.state.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        tables = set(inspect(conn).get_table_names())
    assert diff == []
    assert {"towns", "users", "uploads", "runs", "checks", "files", "alembic_version"} <= tables


def test_every_setting_of_the_web_app_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in SETTINGS_DOC:
        assert f"`{name}`" in readme, f"{name} is not documented in README.md"
