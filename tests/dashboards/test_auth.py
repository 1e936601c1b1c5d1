from pathlib import Path

import bcrypt
import pytest

from dashboards import auth, sessions
from tests.dashboards.dashboards_testlib import PASSWORDS


def test_demo_users_log_in_with_their_documented_passwords():
    for username, password in PASSWORDS.items():
        user = auth.authenticate(username, password)
        assert user is not None and user.username == username


def test_wrong_password_and_unknown_user_are_refused():
    assert auth.authenticate("leader", "wrong") is None
    assert auth.authenticate("nobody", "pingan-leader") is None


def test_district_officer_scope_carries_the_district_from_the_config_file():
    officer = auth.authenticate("chongchuan", PASSWORDS["chongchuan"])
    assert officer.scope.restricted and officer.scope.district == "崇川区"
    leader = auth.authenticate("leader", PASSWORDS["leader"])
    assert not leader.scope.restricted and leader.scope.district is None


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "users.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_a_district_user_without_a_district_is_a_config_error(tmp_path):
    hashed = bcrypt.hashpw(b"x", bcrypt.gensalt(rounds=4)).decode()
    path = _write(tmp_path, f'[users.a]\nrole = "district"\npassword_hash = "{hashed}"\n')
    with pytest.raises(auth.UsersFileError, match="district"):
        auth.load_users(path)


def test_a_clear_text_password_in_the_config_is_rejected(tmp_path):
    path = _write(tmp_path, '[users.a]\nrole = "leader"\npassword_hash = "secret"\n')
    with pytest.raises(auth.UsersFileError, match="bcrypt"):
        auth.load_users(path)


def test_missing_users_file_is_a_one_line_error(tmp_path):
    with pytest.raises(auth.UsersFileError, match="不存在"):
        auth.load_users(tmp_path / "none.toml")


def test_a_logged_in_user_is_looked_up_again_so_a_removed_user_loses_access(tmp_path):
    hashed = bcrypt.hashpw(b"x", bcrypt.gensalt(rounds=4)).decode()
    path = _write(tmp_path, f'[users.a]\nrole = "leader"\npassword_hash = "{hashed}"\n')
    assert auth.lookup("a", path).role == "leader"
    path.write_text(
        f'[users.a]\nrole = "district"\ndistrict = "海门区"\npassword_hash = "{hashed}"\n',
        encoding="utf-8",
    )
    assert auth.lookup("a", path).scope.district == "海门区"
    path.write_text("", encoding="utf-8")
    assert auth.lookup("a", path) is None


def test_a_login_is_refused_from_another_browser_and_after_the_idle_timeout():
    token = sessions.open_login("leader", "browser-a")
    assert sessions.resume(token, "browser-a", 60) == "leader"
    with pytest.raises(sessions.Refused, match="session_rebound"):
        sessions.resume(token, "browser-b", 60)
    assert sessions.resume(token, "browser-a", 60) == ""  # the login is over for both
    idle = sessions.open_login("leader", "browser-a")
    with pytest.raises(sessions.Refused, match="session_expired"):
        sessions.resume(idle, "browser-a", -1)
    assert not sessions.browser_logged_in("browser-a", 60)


def test_browser_cookies_are_signed_by_the_server():
    cookie = sessions.new_browser_cookie()
    browser = sessions.browser_of(cookie)
    assert browser and cookie.startswith(browser)
    assert sessions.browser_of(browser + ".forged") is None
    assert sessions.browser_of("") is None and sessions.browser_of(None) is None
