"""Users, roles, login attempts and their limits.

``st.login`` only speaks OIDC, which a command centre's intranet rarely has, so
the app has a plain form: users and bcrypt hashes come from a TOML file
(``PINGAN_DASHBOARD_USERS``, default ``dashboards/users.toml``). A login is a
token in the tab's session state, bound to the browser that logged in
(:mod:`dashboards.sessions`). What a user may see is carried by
:class:`User.scope` into every query of :mod:`dashboards.data`.

Every attempt is in the access log (``login``, ``login_failed``, ``login_lockout``
when a name or client reaches the limit, ``login_locked`` for an attempt refused
while locked); the lockout counts those rows, so it holds across server restarts.
The limits are the ``[login]`` table of the dashboard config.
"""

from __future__ import annotations

import os
import time
import tomllib
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import bcrypt

from dashboards import access_log, data
from dashboards.data import Scope

DEFAULT_USERS_FILE = Path(__file__).with_name("users.toml")
ROLES = {"leader": "市领导", "analyst": "分析员", "district": "区县工作人员"}
SESSION_KEY = "pingan_login"  # the login token (dashboards.sessions)
WRONG_PASSWORD = "用户名或密码错误。"
LOCKED = "登录失败次数过多，账号已暂时锁定，请{minutes}分钟后再试或联系管理员。"


class UsersFileError(Exception):
    """The users file is missing or malformed (a one-line, actionable message)."""


@dataclass(frozen=True)
class User:
    username: str
    display_name: str
    role: str  # leader | analyst | district
    district: str | None = None

    @property
    def scope(self) -> Scope:
        return Scope(role=self.role, district=self.district if self.role == "district" else None)

    @property
    def role_label(self) -> str:
        return ROLES[self.role]


def users_file() -> Path:
    return Path(os.environ.get("PINGAN_DASHBOARD_USERS") or DEFAULT_USERS_FILE)


def load_users(path: Path | None = None) -> dict[str, tuple[User, bytes]]:
    """username -> (user, bcrypt hash). Raises :class:`UsersFileError` with the reason."""
    path = path or users_file()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsersFileError(f"用户配置文件不存在: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsersFileError(f"用户配置文件格式错误: {path}: {exc}") from None
    users: dict[str, tuple[User, bytes]] = {}
    for name, entry in (data.get("users") or {}).items():
        role = entry.get("role")
        if role not in ROLES:
            raise UsersFileError(
                f"{path}: 用户 {name} 的角色 {role!r} 无效 (leader/analyst/district)"
            )
        district = entry.get("district")
        if role == "district" and not district:
            raise UsersFileError(f"{path}: 区县用户 {name} 未配置 district")
        hashed = entry.get("password_hash", "")
        if not hashed.startswith("$2"):
            raise UsersFileError(f"{path}: 用户 {name} 的 password_hash 不是 bcrypt 哈希")
        user = User(name, entry.get("display_name") or name, role, district)
        users[name] = (user, hashed.encode())
    return users


# A fixed hash to compare against for unknown users, so a login attempt takes the
# same time whether or not the username exists.
_DUMMY_HASH = bcrypt.hashpw(b"pingan-no-such-user", bcrypt.gensalt(rounds=10))


def authenticate(username: str, password: str, path: Path | None = None) -> User | None:
    """The user when the password matches its bcrypt hash, else None."""
    users = load_users(path)
    entry = users.get(username.strip())
    hashed = entry[1] if entry else _DUMMY_HASH
    ok = bcrypt.checkpw(password.encode(), hashed)
    return entry[0] if entry and ok else None


@dataclass(frozen=True)
class LoginPolicy:
    """The ``[login]`` limits of the dashboard config (declared there, once)."""

    max_failures: int
    window_minutes: float
    failure_delay_seconds: float
    idle_timeout_minutes: float

    @property
    def idle_seconds(self) -> float:
        return self.idle_timeout_minutes * 60


def login_policy() -> LoginPolicy:
    section = data.config().get("login") or {}
    try:
        return LoginPolicy(**{f: section[f] for f in LoginPolicy.__dataclass_fields__})
    except KeyError as exc:
        raise UsersFileError(f"看板配置缺少 [login] {exc.args[0]}") from None


def attempt(username: str, password: str, *, client: str | None) -> tuple[User | None, str]:
    """One login attempt from ``client`` (its address): the user, or None and what to say.

    A name with ``max_failures`` failed attempts in the window (since its last successful
    login) is refused without checking the password until the window has passed; each
    failed attempt waits ``failure_delay_seconds`` before answering. The lockout is per
    name, not per address: behind the command centre's proxy every client has the same
    address, and locking it would lock everyone out."""
    policy = login_policy()
    settings = data.settings()
    name = username.strip()
    client = client or "unknown"
    since = access_log.now() - timedelta(minutes=policy.window_minutes)
    by_name = access_log.failed_logins(settings, since=since, user=name)
    locked = LOCKED.format(minutes=f"{policy.window_minutes:g}")

    def log(action: str, allowed: bool, user: User | None = None) -> None:
        access_log.record(
            settings,
            user=name,
            role=user.role if user else "-",
            district=user.district if user else None,
            action=action,
            target=client,
            allowed=allowed,
        )

    if by_name >= policy.max_failures:
        log("login_locked", False)
        return None, locked
    user = authenticate(name, password)
    if user is None:
        log("login_failed", False)
        if by_name + 1 == policy.max_failures:
            log("login_lockout", False)
        time.sleep(policy.failure_delay_seconds)
        return None, WRONG_PASSWORD
    log("login", True, user)
    return user, ""


def lookup(username: str, path: Path | None = None) -> User | None:
    """The user as the users file says now (a removed or moved user changes at once)."""
    entry = load_users(path).get(username)
    return entry[0] if entry else None
