"""Accounts and tokens: hashed at rest, checked per request, cached briefly, revocable."""

import time
from collections.abc import Callable

import pytest
from sqlalchemy import select, update
from tests.api.conftest import API, BANK, Town
from tests.api.errors import assert_error
from tests.conftest import LI_NA, ZHANG_JIAN

from socialcredit.domain.errors import InputError, NotFoundError, RefusedError
from socialcredit.services import users
from socialcredit.store.schema import sessions
from socialcredit.store.schema import users as users_table


@pytest.mark.production_hash
def test_tokens_are_random_shown_once_and_stored_as_argon2id(town: Town):
    created = users.add_user(
        town.registry,
        "teller-2",
        "verifier",
        organisation=BANK,
        grants=[users.Grant("civil-service-promotion", "promotion")],
    )
    token = created.token
    assert users.TOKEN.fullmatch(token) and token.startswith(f"sc_{created.user.id}_")
    assert len(token.split("_", 2)[2]) >= 43  # 32 random bytes
    with town.registry.database.read() as connection:
        stored = connection.execute(
            select(users_table.c.secret_hash).where(users_table.c.id == created.user.id)
        ).scalar_one()
    assert token not in stored and token.split("_", 2)[2] not in stored
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert users.authenticate_token(town.registry, token) == created.user
    another = users.add_user(town.registry, "teller-3", "clerk")
    assert another.token.split("_", 2)[2] != token.split("_", 2)[2]


def test_me_for_every_role(town: Town):
    for role, account in town.accounts.items():
        me = town.get(f"{API}/me", role).json()
        assert (me["name"], me["role"]) == (account.name, role)
        assert "token" not in me and "secret_hash" not in str(me)
    assert town.get(f"{API}/me", "agency").json()["agency"] == "traffic-police"
    assert town.get(f"{API}/me", "resident").json()["person_id"] == ZHANG_JIAN
    assert len(town.get(f"{API}/me", "verifier").json()["grants"]) == 2


def test_revoked_in_this_process_fails_at_once(town: Town):
    assert town.get(f"{API}/me", "clerk").status_code == 200  # now cached
    users.revoke_user(town.registry, "clerk-wang")
    assert_error(town.get(f"{API}/me", "clerk"), 401, "invalid-token")
    again = users.revoke_user(town.registry, "clerk-wang")  # idempotent
    assert again.revoked_at is not None


def test_revoked_elsewhere_is_seen_within_the_cache_lifetime(town: Town):
    """Another process (``socialcredit users revoke``) writes the database only: this process
    trusts its cache for ``token_cache_seconds`` and then reads the account again."""
    assert town.get(f"{API}/me", "clerk").status_code == 200
    with town.registry.database.write() as connection:
        connection.execute(
            update(users_table)
            .where(users_table.c.name == "clerk-wang")
            .values(revoked_at=town.registry.clock.now())
        )
    assert town.get(f"{API}/me", "clerk").status_code == 200  # still cached, as documented
    users.TOKENS.clear()  # what the passing of token_cache_seconds amounts to
    assert_error(town.get(f"{API}/me", "clerk"), 401, "invalid-token")


def test_without_a_cache_every_request_reads_the_account(make_town: Callable[..., Town]):
    town = make_town(token_cache_seconds=0)
    assert town.get(f"{API}/me", "clerk").status_code == 200
    with town.registry.database.write() as connection:
        connection.execute(
            update(users_table)
            .where(users_table.c.name == "clerk-wang")
            .values(revoked_at=town.registry.clock.now())
        )
    assert_error(town.get(f"{API}/me", "clerk"), 401, "invalid-token")


def test_token_cache_expires_and_is_bounded():
    now = [0.0]
    cache: users.TokenCache[users.User] = users.TokenCache(2, clock=lambda: now[0])
    account = users.User(1, "a", "clerk", None, None, None, None)  # type: ignore[arg-type]
    cache.put(("db", "k1"), account, ttl=10)
    now[0] = 9.9
    assert cache.get(("db", "k1")) == account
    now[0] = 10.0
    assert cache.get(("db", "k1")) is None
    for key in ("k2", "k3", "k4"):
        cache.put(("db", key), account, ttl=10)
    assert cache.get(("db", "k2")) is None and cache.get(("db", "k4")) == account
    cache.forget_user("db", 1)
    assert cache.get(("db", "k3")) is None and cache.get(("db", "k4")) is None


@pytest.mark.parametrize(
    ("role", "options", "error"),
    [
        ("mayor", {}, InputError),
        ("agency", {}, InputError),
        ("agency", {"agency": "no-such-agency"}, InputError),
        ("clerk", {"agency": "traffic-police"}, InputError),
        ("resident", {}, InputError),
        ("resident", {"person_id": "12345"}, RefusedError),
        ("verifier", {"organisation": BANK}, InputError),
        ("verifier", {"organisation": BANK, "grants": [users.Grant("no-such", "x")]}, InputError),
        ("verifier", {"grants": [users.Grant("management-position", "hiring")]}, InputError),
        ("admin", {"person_id": ZHANG_JIAN}, InputError),
    ],
)
def test_accounts_are_bound_as_their_role_needs(town: Town, role: str, options: dict, error: type):
    with pytest.raises(error):
        users.add_user(town.registry, "new-account", role, **options)


def test_names_are_unique_and_plain(town: Town):
    with pytest.raises(InputError, match="exists already"):
        users.add_user(town.registry, "clerk-wang", "clerk")
    for bad in ("", "has space", "-dash", "x" * 129, "名字"):
        with pytest.raises(InputError):
            users.add_user(town.registry, bad, "clerk")
    with pytest.raises(NotFoundError):
        users.revoke_user(town.registry, "nobody")


def test_grants_parse():
    assert users.parse_grant("civil-service-promotion:promotion: to A") == users.Grant(
        "civil-service-promotion", "promotion: to A"
    )
    for bad in ("no-colon", ":purpose", "policy:", " : "):
        with pytest.raises(InputError):
            users.parse_grant(bad)


def test_list_users_never_shows_a_secret(town: Town):
    listed = users.list_users(town.registry)
    assert [u.name for u in listed] == [spec.name for spec in town.accounts.values()]
    for user in listed:
        assert "secret" not in str(user.as_dict()) and "sc_" not in str(user.as_dict())
    assert len(users.list_users(town.registry, after_id=listed[2].id, limit=2)) == 2


# --- sessions (the portal builds on these) -----------------------------------------------------


def test_login_makes_a_new_session_each_time_and_revokes_the_one_it_replaces(town: Town):
    token = town.tokens["clerk"]
    assert users.login(town.registry, "clerk-wang", "sc_1_" + "A" * 43) is None
    assert users.login(town.registry, "zhang-jian", token) is None  # someone else's token
    planted = users.login(town.registry, "clerk-wang", token)
    assert planted is not None
    fresh = users.login(town.registry, "clerk-wang", token, replacing=planted.cookie)
    assert fresh is not None and fresh.cookie != planted.cookie and fresh.csrf != planted.csrf
    assert users.verify_session(town.registry, planted.cookie) is None  # fixation defeated
    info = users.verify_session(town.registry, fresh.cookie)
    assert info is not None and info.user.name == "clerk-wang"
    with town.registry.database.read() as connection:
        ids = connection.execute(select(sessions.c.id)).scalars().all()
    assert fresh.cookie not in ids and all(len(i) == 64 for i in ids)  # only digests stored
    users.revoke_session(town.registry, fresh.cookie)
    assert users.verify_session(town.registry, fresh.cookie) is None


def test_sessions_expire_and_die_with_their_account(make_town: Callable[..., Town]):
    from dataclasses import replace

    from socialcredit.services.clock import Clock

    town = make_town(session_minutes=5)
    session = users.create_session(town.registry, town.accounts["clerk"])
    assert users.verify_session(town.registry, session.cookie) is not None
    later = Clock.create(town.registry.settings.timezone, "2026-11-27T12:05:00+08:00")
    assert users.verify_session(replace(town.registry, clock=later), session.cookie) is None
    other = users.create_session(town.registry, town.accounts["auditor"])
    users.revoke_user(town.registry, "auditor-chen")
    assert users.verify_session(town.registry, other.cookie) is None


def test_csrf_matches_only_the_sessions_token(town: Town):
    session = users.create_session(town.registry, town.accounts["clerk"])
    info = users.verify_session(town.registry, session.cookie)
    assert info is not None
    assert users.csrf_matches(info, session.csrf)
    for wrong in (None, "", session.csrf[:-1], session.cookie):
        assert not users.csrf_matches(info, wrong)


def test_the_api_accepts_the_session_cookie_with_csrf_on_writes(town: Town):
    from socialcredit.api.sessions import CSRF_HEADER, SESSION_COOKIE

    session = users.create_session(town.registry, town.accounts["verifier"])
    cookie = {"Cookie": f"{SESSION_COOKIE}={session.cookie}"}
    client = town.client
    assert client.get(f"{API}/me", headers=cookie).json()["name"] == "bank-teller"
    body = {"person_id": LI_NA, "policy": "management-position", "purpose": "hiring"}
    assert_error(client.post(f"{API}/checks", json=body, headers=cookie), 403, "csrf-failed")
    wrong = client.post(f"{API}/checks", json=body, headers={**cookie, CSRF_HEADER: "guess"})
    assert_error(wrong, 403, "csrf-failed")
    ok = client.post(f"{API}/checks", json=body, headers={**cookie, CSRF_HEADER: session.csrf})
    assert ok.status_code == 200 and ok.json()["eligible"] is False
    users.revoke_session(town.registry, session.cookie)
    assert_error(client.get(f"{API}/me", headers=cookie), 401, "unauthenticated")


def test_the_session_cookie_is_secure_httponly_lax():
    from datetime import UTC, datetime

    from fastapi import Response

    from socialcredit.api.sessions import clear_session_cookie, set_session_cookie

    response = Response()
    account = users.User(1, "a", "clerk", None, None, None, datetime.now(UTC))
    set_session_cookie(response, users.NewSession("value", "csrf", datetime.now(UTC), account))
    header = response.headers["set-cookie"]
    assert header.startswith("sc_session=value;")
    for attribute in ("HttpOnly", "Secure", "SameSite=lax", "Path=/", "expires="):
        assert attribute.lower() in header.lower(), header
    cleared = Response()
    clear_session_cookie(cleared)
    assert "max-age=0" in cleared.headers["set-cookie"].lower()


def test_verification_does_not_block_the_event_loop(town: Town, monkeypatch: pytest.MonkeyPatch):
    """A cache miss (argon2) runs in the thread pool: the loop serves others meanwhile."""
    import threading

    seen: list[bool] = []
    original = users.authenticate_token

    def spy(registry, token):  # noqa: ANN001
        seen.append(threading.current_thread() is threading.main_thread())
        time.sleep(0)
        return original(registry, token)

    monkeypatch.setattr(users, "authenticate_token", spy)
    users.TOKENS.clear()
    assert town.get(f"{API}/me", "clerk").status_code == 200
    assert seen and not any(seen)


def test_a_form_post_may_carry_the_csrf_token_as_a_field(town: Town):
    from socialcredit.api.sessions import CSRF_FIELD, SESSION_COOKIE

    session = users.create_session(town.registry, town.accounts["agency"])
    cookie = {"Cookie": f"{SESSION_COOKIE}={session.cookie}"}
    text = f"agency,event_id,person_id,rule,occurred_on\ntraffic-police,F-1,{ZHANG_JIAN},TRAFFIC-RED-LIGHT,2026-11-01\n"
    files = {"file": ("e.csv", text.encode(), "text/csv")}
    refused = town.client.post(f"{API}/events/bulk", files=files, headers=cookie)
    assert_error(refused, 403, "csrf-failed")
    files = {"file": ("e.csv", text.encode(), "text/csv")}
    ok = town.client.post(
        f"{API}/events/bulk", files=files, data={CSRF_FIELD: session.csrf}, headers=cookie
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["accepted"] == 1
