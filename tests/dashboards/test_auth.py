from pathlib import Path

import bcrypt
import pytest

from dashboards import auth
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


def test_session_user_is_looked_up_again_so_a_removed_user_loses_access(tmp_path):
    hashed = bcrypt.hashpw(b"x", bcrypt.gensalt(rounds=4)).decode()
    path = _write(tmp_path, f'[users.a]\nrole = "leader"\npassword_hash = "{hashed}"\n')
    state = {auth.SESSION_KEY: "a"}
    assert auth.user_from_session(state, path).role == "leader"
    path.write_text(
        f'[users.a]\nrole = "district"\ndistrict = "海门区"\npassword_hash = "{hashed}"\n',
        encoding="utf-8",
    )
    assert auth.user_from_session(state, path).scope.district == "海门区"
    path.write_text("", encoding="utf-8")
    assert auth.user_from_session(state, path) is None
