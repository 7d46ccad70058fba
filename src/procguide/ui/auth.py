"""Optional login for the web UI. Off by default (the UI listens on 127.0.0.1 only). With
PROCGUIDE_AUTH set, every visitor signs in:

- PROCGUIDE_AUTH=env: users from PROCGUIDE_AUTH_USERS, "name:hash" entries separated by
  commas or new lines;
- PROCGUIDE_AUTH=/path/to/users: a file of "name:hash" lines (# starts a comment).

Only password hashes are accepted, made by `procguide auth hash` (scrypt, from the standard
library, with a random salt), so there is no default password and no plain password in a
setting. Serving on an address other than loopback without a login prints a warning.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import os
import re
import secrets
from collections.abc import Callable
from pathlib import Path

from procguide.config import Settings

# scrypt's cost: 2^15 (32 MiB of memory, about 0.1 s a check on this machine's cores).
_N, _R, _P = 2**15, 8, 1
_PREFIX = "scrypt"
_NAME = re.compile(r"^[A-Za-z0-9._@+-]{1,64}$")


class AuthError(ValueError):
    """The login settings cannot be used; the message says what to fix."""


def hash_password(password: str, *, n: int = _N, r: int = _R, p: int = _P) -> str:
    """'scrypt$N$r$p$salt$hash' (base64) for a password."""
    if len(password) < 8:
        raise AuthError("A password must have at least 8 characters.")
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=2**27, dklen=32)
    b64 = base64.b64encode
    return f"{_PREFIX}${n}${r}${p}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, hashed: str) -> bool:
    """Does the password match the hash? Compared in constant time; a malformed hash is False."""
    try:
        prefix, n, r, p, salt, digest = hashed.split("$")
        if prefix != _PREFIX:
            return False
        expected = base64.b64decode(digest, validate=True)
        found = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt, validate=True),
                               n=int(n), r=int(r), p=int(p), maxmem=2**27, dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(found, expected)


def parse_users(text: str, where: str) -> dict[str, str]:
    """'name:hash' entries (one a line or comma-separated; # comments) as {name: hash}."""
    users: dict[str, str] = {}
    for number, raw in enumerate(re.split(r"[\n,]", text), start=1):
        entry = raw.split("#", 1)[0].strip()
        if not entry:
            continue
        name, sep, hashed = entry.partition(":")
        if not sep or not _NAME.match(name.strip()):
            raise AuthError(f"{where}, entry {number}: expected 'name:hash' (make a hash with "
                            "`procguide auth hash NAME`)")
        if not hashed.strip().startswith(f"{_PREFIX}$") or hashed.count("$") != 5:
            raise AuthError(f"{where}, entry {number} ({name.strip()}): not a password hash. Plain "
                            "passwords are not accepted: make a hash with `procguide auth hash NAME`")
        users[name.strip()] = hashed.strip()
    return users


def load_users(settings: Settings) -> dict[str, str] | None:
    """The users who may sign in, or None when login is off. AuthError if it is on but unusable."""
    mode = (settings.auth or "").strip()
    if mode.lower() in ("", "off", "none", "false", "0"):
        return None
    if mode.lower() == "env":
        users = parse_users(os.environ.get("PROCGUIDE_AUTH_USERS", ""), "PROCGUIDE_AUTH_USERS")
        where = "PROCGUIDE_AUTH_USERS"
    else:
        path = Path(mode)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise AuthError(f"PROCGUIDE_AUTH={mode}: the users file cannot be read ({exc.strerror})") from exc
        users = parse_users(text, str(path))
        where = str(path)
    if not users:
        raise AuthError(f"PROCGUIDE_AUTH is on but {where} names no user: add one with `procguide auth hash NAME`")
    return users


def authenticator(settings: Settings) -> Callable[[str, str], bool] | None:
    """Gradio's `auth` callable for the settings, or None when login is off."""
    users = load_users(settings)
    if users is None:
        return None

    def check(username: str, password: str) -> bool:
        hashed = users.get(username)
        if hashed is None:  # the same work for an unknown name, so timing does not tell names apart
            verify_password(password, _DUMMY)
            return False
        return verify_password(password, hashed)

    return check


def exposure_warning(host: str, login: bool) -> str:
    """A warning when the UI would answer anyone on the network without a login; else ''."""
    if login:
        return ""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if loopback:
        return ""
    return (f"WARNING: procguide is serving on {host} without a login, so anyone who can reach this "
            "address can use it. Set PROCGUIDE_AUTH (see README, 'Login'), or serve on 127.0.0.1 "
            "behind your organisation's sign-in.")


_DUMMY = hash_password("not a real password", n=_N)
