"""The sign-in limiter: counts in the database, per name and per address, forwarded addresses only from trusted
proxies, and the same work for a known and an unknown name. On both stores."""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import CSRF, PASSWORD, add_user
from subsidy_engine.web import auth
from subsidy_engine.web.app import create_app
from subsidy_engine.web.config import Rate, Settings, parse_networks
from subsidy_engine.web.signin import client_address

PROXY = ipaddress.ip_network("10.0.0.0/8")


def _sign_in(client: TestClient, name: str, password: str, **headers: str) -> int:
    token = CSRF.search(client.get("/login").text)
    assert token
    data = {"csrf": token.group(1), "name": name, "password": password}
    return client.post("/login", data=data, headers=headers, follow_redirects=False).status_code


@pytest.fixture
def tight(settings: Settings) -> Iterator[Any]:
    """An app with a per-address budget of 4 failures (per name: 2)."""
    app = create_app(
        dataclasses.replace(settings, signin_limit=Rate(2, 60), signin_address_limit=Rate(4, 900))
    )
    yield app
    app.state.engine.dispose()


def test_failures_are_counted_in_the_database_so_a_restart_does_not_reset_them(
    app: Any, settings: Settings
) -> None:
    add_user(app, "xinglong", "caseworker", "兴隆镇")
    client = TestClient(app)
    for _ in range(5):
        assert _sign_in(client, "xinglong", "wrong password") == 401
    restarted = create_app(settings)
    try:
        assert _sign_in(TestClient(restarted), "xinglong", PASSWORD) == 429
    finally:
        restarted.state.engine.dispose()


def test_spraying_many_names_from_one_address_is_limited_too(tight: Any) -> None:
    add_user(tight, "xinglong", "caseworker", "兴隆镇")
    client = TestClient(tight)
    assert [_sign_in(client, f"user{i}", "guess-123") for i in range(4)] == [401] * 4
    assert _sign_in(client, "user99", "guess-123") == 429  # a fresh name: the address's budget is spent
    assert _sign_in(client, "xinglong", PASSWORD) == 429


def test_a_spoofed_forwarded_header_from_an_untrusted_peer_changes_nothing(tight: Any) -> None:
    add_user(tight, "xinglong", "caseworker", "兴隆镇")
    client = TestClient(tight)
    codes = [
        _sign_in(client, "xinglong", "wrong password", **{"X-Forwarded-For": f"203.0.113.{i}"})
        for i in range(3)
    ]
    assert codes == [401, 401, 429]


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_count(settings: Settings) -> None:
    app = create_app(dataclasses.replace(settings, signin_limit=Rate(2, 60), trusted_proxies=(PROXY,)))
    try:
        add_user(app, "xinglong", "caseworker", "兴隆镇")
        proxy = TestClient(app, client=("10.1.2.3", 40000))
        a = {"X-Forwarded-For": "198.51.100.7"}
        b = {"X-Forwarded-For": "198.51.100.7, 198.51.100.8"}  # the proxy appended the real client last
        assert [_sign_in(proxy, "xinglong", "wrong password", **a) for _ in range(3)] == [401, 401, 429]
        assert _sign_in(proxy, "xinglong", PASSWORD, **b) == 303
    finally:
        app.state.engine.dispose()


def test_the_client_address_rules() -> None:
    trusted = parse_networks("10.0.0.0/8, 192.168.1.1")
    assert client_address("203.0.113.5", "1.2.3.4", ()) == "203.0.113.5"
    assert client_address("203.0.113.5", "1.2.3.4", trusted) == "203.0.113.5"  # the peer is no proxy
    assert client_address("10.0.0.2", "1.2.3.4", trusted) == "1.2.3.4"
    assert client_address("10.0.0.2", "6.6.6.6, 1.2.3.4, 192.168.1.1", trusted) == "1.2.3.4"
    assert client_address("10.0.0.2", "not-an-address", trusted) == "10.0.0.2"
    assert client_address("10.0.0.2", None, trusted) == "10.0.0.2"


def test_an_unknown_name_costs_one_argon2_verification_like_a_known_one(
    app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_user(app, "xinglong", "caseworker", "兴隆镇")
    calls: list[str] = []
    real = auth._hasher

    class Counting:
        def verify(self, stored: str, password: str) -> bool:
            calls.append(stored[:10])
            return real.verify(stored, password)

    monkeypatch.setattr(auth, "_hasher", Counting())
    client = TestClient(app)
    assert _sign_in(client, "xinglong", "wrong password") == 401
    assert _sign_in(client, "nobody-here", "wrong password") == 401
    assert calls == ["$argon2id$", "$argon2id$"]
