"""Users, roles and the login form.

``st.login`` only speaks OIDC, which a command centre's intranet rarely has, so
the app has a plain form: users and bcrypt hashes come from a TOML file
(``PINGAN_DASHBOARD_USERS``, default ``dashboards/users.toml``), the logged-in
user lives in the session state of the browser tab. What a user may see is
carried by :class:`User.scope` into every query of :mod:`dashboards.data`.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

import bcrypt

from dashboards.data import Scope

DEFAULT_USERS_FILE = Path(__file__).with_name("users.toml")
ROLES = {"leader": "市领导", "analyst": "分析员", "district": "区县工作人员"}
SESSION_KEY = "pingan_user"


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


def user_from_session(state: object, path: Path | None = None) -> User | None:
    """The logged-in user, looked up afresh in the users file on every run.

    Only the username is kept in the session: a user removed from the file or
    moved to another district loses or changes access at the next interaction.
    """
    username = state.get(SESSION_KEY) if hasattr(state, "get") else None  # type: ignore[union-attr]
    if not username:
        return None
    entry = load_users(path).get(str(username))
    return entry[0] if entry else None
