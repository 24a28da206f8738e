"""`posture dashboard`: private by default; serving other machines needs a password."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit import config as st_config
from streamlit.testing.v1 import AppTest

from posture import dashboard
from posture.cli import main
from posture.errors import PostureError

APP = str(Path(__file__).resolve().parent.parent / "app" / "streamlit_app.py")


@pytest.fixture(autouse=True)
def _no_password_in_env(monkeypatch, tmp_path):
    monkeypatch.delenv(dashboard.PASSWORD_ENV, raising=False)
    monkeypatch.delenv(dashboard.PASSWORD_HASH_ENV, raising=False)
    monkeypatch.setenv("POSTURE_DB", str(tmp_path / "history.sqlite3"))


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("localhost", True), ("127.0.0.1", True), ("::1", True), ("[::1]", True),
     ("127.0.0.2", True), ("0.0.0.0", False), ("::", False), ("", False), (None, False),
     ("192.168.1.20", False), ("clinic.example", False)],
)  # fmt: skip
def test_only_loopback_addresses_count_as_this_computer(host, loopback):
    assert dashboard.is_loopback(host) is loopback


def test_default_command_listens_on_localhost_with_every_privacy_flag():
    cmd, env = dashboard.plan("localhost", 8501, None)
    flags = dict(zip(cmd[5::2], cmd[6::2], strict=True))
    assert cmd[1:4] == ["-m", "streamlit", "run"]
    assert flags["--server.address"] == "localhost"
    assert flags["--browser.gatherUsageStats"] == "false"
    assert flags["--server.headless"] == "true"
    assert flags["--server.maxUploadSize"] == "500"
    assert env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] == "false"
    assert dashboard.PASSWORD_HASH_ENV not in env


def test_upload_limit_flag_follows_a_valid_setting_and_ignores_a_bad_one(monkeypatch):
    monkeypatch.setenv("POSTURE_MAX_UPLOAD_MB", "50")
    assert "50" in dashboard.plan("localhost", 8501, None)[0]
    monkeypatch.setenv("POSTURE_MAX_UPLOAD_MB", "nan")
    cmd = dashboard.plan("localhost", 8501, None)[0]
    assert cmd[cmd.index("--server.maxUploadSize") + 1] == "500"


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::"])
def test_serving_other_machines_without_a_password_is_refused(host, capsys):
    with pytest.raises(PostureError, match="needs a password"):
        dashboard.plan(host, 8501, None)
    assert main(["dashboard", "--host", host]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "needs a password" in err


def test_a_short_password_is_refused(monkeypatch):
    monkeypatch.setenv(dashboard.PASSWORD_ENV, "short")
    with pytest.raises(PostureError, match="too short"):
        dashboard.plan("0.0.0.0", 8501, None)


def test_the_password_reaches_the_server_only_as_a_salted_hash(monkeypatch, tmp_path):
    secret = "correct horse battery"
    monkeypatch.setenv(dashboard.PASSWORD_ENV, secret)
    cmd, env = dashboard.plan("0.0.0.0", 8501, None)
    stored = env[dashboard.PASSWORD_HASH_ENV]
    assert dashboard.PASSWORD_ENV not in env
    assert secret not in " ".join(cmd) and secret not in " ".join(env.values())
    assert dashboard.verify_password(secret, stored)
    assert not dashboard.verify_password(secret + "x", stored)
    assert not dashboard.verify_password(secret, "garbage")
    # The same password hashes differently each time (salted).
    assert dashboard.hash_password(secret) != dashboard.hash_password(secret)
    pw_file = tmp_path / "pw.txt"
    pw_file.write_text("from a file 123\nignored\n")
    monkeypatch.delenv(dashboard.PASSWORD_ENV)
    env2 = dashboard.plan("0.0.0.0", 8501, str(pw_file))[1]
    assert dashboard.verify_password("from a file 123", env2[dashboard.PASSWORD_HASH_ENV])


def test_unreadable_password_file_and_bad_port_are_one_sentence(capsys, tmp_path):
    assert main(["dashboard", "--host", "0.0.0.0", "--password-file", str(tmp_path / "no")]) == 2
    assert "cannot be read" in capsys.readouterr().err
    assert main(["dashboard", "--port", "70000"]) == 2
    assert "not a port number" in capsys.readouterr().err


@pytest.fixture
def server_address():
    """Set Streamlit's server.address for an AppTest run, then put it back."""
    before = st_config.get_option("server.address")
    yield lambda value: st_config.set_option("server.address", value)
    st_config.set_option("server.address", before)


def _texts(at: AppTest) -> str:
    return "\n".join(str(e.value) for e in (*at.error, *at.title, *at.markdown))


def test_app_shows_nothing_when_reachable_from_other_machines_without_a_password(
    server_address,
):
    server_address("0.0.0.0")
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert "has no password" in _texts(at)
    assert len(at.sidebar.radio) == 0  # no mode, no history, nothing else


def test_app_asks_for_the_password_before_anything_else(server_address, monkeypatch):
    server_address("0.0.0.0")
    monkeypatch.setenv(dashboard.PASSWORD_HASH_ENV, dashboard.hash_password("clinic-tablet-1"))
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception and len(at.sidebar.radio) == 0
    at.text_input[0].set_value("wrong guess").run()
    at.button[0].click().run()
    assert "Wrong password" in _texts(at) and len(at.sidebar.radio) == 0
    at.text_input[0].set_value("clinic-tablet-1").run()
    at.button[0].click().run()
    assert not at.exception
    assert at.sidebar.radio(key="mode").value == "Analyse a recording"


def test_app_on_localhost_opens_without_a_login(server_address):
    server_address("localhost")
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception and at.sidebar.radio(key="mode").value == "Analyse a recording"
