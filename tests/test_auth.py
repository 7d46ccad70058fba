"""Optional login (ui/auth.py): off by default; users from the environment or a file of scrypt
hashes, never plain passwords; a wrong or unknown login is refused; a users file that cannot be
used says what to fix; serving beyond loopback without a login warns; and the served page asks
for a login and lets the right one in."""

from __future__ import annotations

import httpx
import pytest
from typer.testing import CliRunner

from procguide.cli import app
from procguide.ui.auth import (
    AuthError,
    authenticator,
    exposure_warning,
    hash_password,
    verify_password,
)
from tests.browser import fast_assistant
from tests.browser import served as served_app
from tests.conftest import make_settings

pytestmark = pytest.mark.fast

CHEAP = {"n": 2**10}  # a cheaper scrypt cost, for speed: the format and the checks are the same


def test_a_password_matches_only_its_hash():
    hashed = hash_password("correct horse", **CHEAP)
    assert hashed.startswith("scrypt$") and "correct horse" not in hashed
    assert verify_password("correct horse", hashed)
    assert not verify_password("correct hors", hashed)
    assert not verify_password("correct horse", "scrypt$1$2$3$bad$hash")
    assert hash_password("correct horse", **CHEAP) != hashed  # salted
    with pytest.raises(AuthError, match="at least 8"):
        hash_password("short")


def test_login_is_off_by_default(tmp_path):
    assert authenticator(make_settings(tmp_path)) is None


def test_users_come_from_a_file_or_the_environment(tmp_path, monkeypatch):
    users = tmp_path / "users"
    users.write_text(f"# procguide users\nalice:{hash_password('alice password', **CHEAP)}\n", encoding="utf-8")
    check = authenticator(make_settings(tmp_path, auth=str(users)))
    assert check("alice", "alice password") and not check("alice", "wrong password") and not check("bob", "x")
    monkeypatch.setenv("PROCGUIDE_AUTH_USERS", f"bob:{hash_password('bob password', **CHEAP)}")
    check = authenticator(make_settings(tmp_path, auth="env"))
    assert check("bob", "bob password") and not check("alice", "alice password")


@pytest.mark.parametrize("content, message", [
    ("alice:hunter22", "Plain passwords are not accepted"),
    ("just a line", "expected 'name:hash'"),
    ("# nobody yet\n", "names no user"),
])
def test_a_users_file_that_cannot_be_used_says_what_to_fix(tmp_path, content, message):
    users = tmp_path / "users"
    users.write_text(content, encoding="utf-8")
    with pytest.raises(AuthError, match=message):
        authenticator(make_settings(tmp_path, auth=str(users)))
    with pytest.raises(AuthError, match="cannot be read"):
        authenticator(make_settings(tmp_path, auth=str(tmp_path / "missing")))


def test_serving_beyond_loopback_without_a_login_warns():
    assert exposure_warning("127.0.0.1", login=False) == ""
    assert exposure_warning("localhost", login=False) == ""
    assert "without a login" in exposure_warning("0.0.0.0", login=False)
    assert exposure_warning("0.0.0.0", login=True) == ""


def test_procguide_auth_hash_prints_a_line_for_the_users_file():
    result = CliRunner().invoke(app, ["auth", "hash", "carys"], input="a long password\na long password\n")
    assert result.exit_code == 0, result.output
    line = result.stdout.strip().splitlines()[-1]
    name, hashed = line.split(":", 1)
    assert name == "carys" and verify_password("a long password", hashed)


def test_the_served_page_asks_for_a_login_and_lets_the_right_one_in(tmp_path):
    users = tmp_path / "users"
    users.write_text(f"alice:{hash_password('alice password', **CHEAP)}\n", encoding="utf-8")
    assistant = fast_assistant(tmp_path / "app", auth=str(users))
    with served_app(assistant) as url, httpx.Client(base_url=url, timeout=10) as client:
        before = client.get("config")
        assert before.status_code == 401 or "auth_required" in before.text
        refused = client.post("login", data={"username": "alice", "password": "wrong password"})
        assert refused.status_code >= 400
        signed_in = client.post("login", data={"username": "alice", "password": "alice password"})
        assert signed_in.status_code == 200, signed_in.text
        config = client.get("config")
        assert config.status_code == 200 and "auth_required" not in config.text
