"""Declared once, documented always: commands, reason codes, fields and programs all appear in the docs."""

from __future__ import annotations

from pathlib import Path

import click

from subsidy_engine.cli.main import main
from subsidy_engine.release.accounts import REASONS as ACCOUNT_REASONS
from subsidy_engine.release.reconcile import ERRORS as RETURN_ERRORS
from subsidy_engine.roster.schema import COLUMNS, HELP
from subsidy_engine.roster.validate import REASONS
from subsidy_engine.rulebook.load import load_rulebook
from subsidy_engine.rulebook.vocabulary import FIELD_DOCS, FIELD_LABELS, FIELDS

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _commands(group: click.Group, prefix: str = "subsidy") -> list[str]:
    out = []
    for name, cmd in group.commands.items():
        if isinstance(cmd, click.Group):
            out += _commands(cmd, f"{prefix} {name}")
        else:
            out.append(f"{prefix} {name}")
    return out


def test_every_command_is_in_the_readme_with_help() -> None:
    for command in _commands(main):
        assert f"`{command}" in README, f"{command} is not documented in README.md"
    for cmd in main.commands.values():
        assert cmd.help, f"{cmd.name} has no help text"


def test_every_reason_code_is_in_the_readme() -> None:
    for code in REASONS:
        assert f"`{code}`" in README, f"reason code {code} is not documented in README.md"


def test_every_fact_field_is_documented() -> None:
    assert set(FIELDS) == set(FIELD_DOCS) == set(FIELD_LABELS)


def test_every_roster_column_has_its_filling_rule() -> None:
    assert set(HELP) == {c.alias for c in COLUMNS}


def test_every_program_is_in_the_readme_and_every_definition_has_a_title() -> None:
    rb = load_rulebook()
    for p in rb.programs:
        assert f"`{p.id}`" in README, p.id
        assert p.title and p.description
        for r in p.rules:
            assert r.title
    for d in rb.definitions:
        assert d.title


def test_every_roster_column_is_in_the_readme_table() -> None:
    for c in COLUMNS:
        assert f"| {c.name} | `{c.alias}` |" in README, f"column {c.name} is not in the README's roster table"


def test_every_account_and_return_code_is_in_the_readme() -> None:
    for code in [*ACCOUNT_REASONS, *RETURN_ERRORS]:
        assert f"`{code}`" in README, f"{code} is not documented in README.md"
