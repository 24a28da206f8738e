"""``posture dashboard``: start the Streamlit dashboard with its privacy settings passed
on the command line, so they hold whatever folder it is started from.

By default it listens on this computer only (localhost). Serving other machines (a
clinic tablet) is an explicit ``--host`` that requires a password; the password itself
never reaches the server process, only a salted scrypt hash of it. This module does not
import Streamlit: it builds the command and runs it.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import ipaddress
import os
import secrets
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from posture.errors import PostureError
from posture.settings import max_upload_mb

if TYPE_CHECKING:
    import argparse

APP_PATH = Path(__file__).resolve().parent.parent / "app" / "streamlit_app.py"
DEFAULT_PORT = 8501
PASSWORD_ENV = "POSTURE_DASHBOARD_PASSWORD"
PASSWORD_HASH_ENV = "POSTURE_DASHBOARD_PASSWORD_HASH"
MIN_PASSWORD_CHARS = 8
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}
# scrypt cost: about 50 ms a check here, so guessing over the network is slow.
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def is_loopback(host: str | None) -> bool:
    """True when ``host`` can only be reached from this computer. An empty address is
    Streamlit's default: every interface, so not loopback."""
    if not host:
        return False
    if host.strip().lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def hash_password(password: str, salt: bytes | None = None) -> str:
    """``scrypt$<salt hex>$<hash hex>`` for ``password``."""
    salt = secrets.token_bytes(16) if salt is None else salt
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, dklen=32, **_SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches a :func:`hash_password` string (constant time)."""
    try:
        scheme, salt_hex, digest_hex = stored.split("$")
        salt = bytes.fromhex(salt_hex)
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    return hmac.compare_digest(hash_password(password, salt), stored)


def read_password(password_file: str | None) -> str | None:
    """The password from ``--password-file`` (first line) or ``POSTURE_DASHBOARD_PASSWORD``."""
    if password_file:
        try:
            with open(password_file, encoding="utf-8") as fh:
                text = fh.read(4096)
        except OSError as err:
            raise PostureError(
                f"The password file {password_file} cannot be read ({err.strerror}): "
                "check the path."
            ) from err
        lines = text.splitlines()
        return lines[0].strip() if lines else ""
    value = os.environ.get(PASSWORD_ENV)
    return value.strip() if value is not None else None


def streamlit_command(host: str, port: int, app_path: Path = APP_PATH) -> list[str]:
    """The ``streamlit run`` command with every privacy setting given as a flag."""
    return [
        sys.executable, "-m", "streamlit", "run", str(app_path),
        "--server.address", host,
        "--server.port", str(port),
        "--server.headless", "true",
        # No usage statistics, and no IP lookups (a set address skips checkip.amazonaws.com).
        "--browser.gatherUsageStats", "false",
        "--server.maxUploadSize", str(int(max_upload_mb())),
        "--server.enableXsrfProtection", "true",
        "--server.fileWatcherType", "none",
        "--global.developmentMode", "false",
        "--client.toolbarMode", "minimal",
    ]  # fmt: skip


def server_environment(password_hash: str | None) -> dict[str, str]:
    """The server's environment: usage statistics off, the plain password removed."""
    env = dict(os.environ)
    env.pop(PASSWORD_ENV, None)
    env.pop(PASSWORD_HASH_ENV, None)
    env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] = "false"
    if password_hash:
        env[PASSWORD_HASH_ENV] = password_hash
    return env


def plan(host: str, port: int, password_file: str | None) -> tuple[list[str], dict[str, str]]:
    """(command, environment) to start the dashboard; PostureError with one sentence when
    the request is unsafe or impossible."""
    if not APP_PATH.is_file():
        raise PostureError(
            f"The dashboard's app ({APP_PATH}) is not here: the dashboard runs from a "
            "source checkout (git clone, then make run)."
        )
    if not 0 < port < 65536:
        raise PostureError(f"Port {port} is not a port number: use 1-65535 (default 8501).")
    password = read_password(password_file)
    if is_loopback(host):
        password_hash = hash_password(password) if password else None
    else:
        if not password:
            raise PostureError(
                f"Serving the dashboard to other machines ({host}) needs a password: set "
                f"{PASSWORD_ENV} or pass --password-file FILE (at least "
                f"{MIN_PASSWORD_CHARS} characters)."
            )
        if len(password) < MIN_PASSWORD_CHARS:
            raise PostureError(
                f"The dashboard password is too short: use at least {MIN_PASSWORD_CHARS} "
                "characters."
            )
        password_hash = hash_password(password)
    return streamlit_command(host, port), server_environment(password_hash)


def run_dashboard(host: str, port: int, password_file: str | None) -> int:
    """Become the dashboard server (this process is replaced, so Ctrl+C and SIGTERM reach
    Streamlit directly and it stops cleanly, removing the session files)."""
    cmd, env = plan(host, port, password_file)
    where = "this computer only" if is_loopback(host) else f"{host}, password required"
    print(f"posture: dashboard at http://{_url_host(host)}:{port} ({where}).", file=sys.stderr)
    sys.stderr.flush()
    sys.stdout.flush()
    with contextlib.suppress(OSError, ValueError):  # the CLI may have muted fd 2
        os.dup2(sys.stderr.fileno(), 2)
    # The caller's folder stays the working folder: the flags carry every setting.
    os.execve(cmd[0], cmd, env)
    return 0  # not reached


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    d = sub.add_parser(
        "dashboard",
        help="open the dashboard in the browser (this computer only, unless --host)",
        description=(
            "Start the dashboard. It listens on this computer only; --host 0.0.0.0 serves "
            f"other machines and then needs a password ({PASSWORD_ENV} or --password-file)."
        ),
    )
    d.set_defaults(handler=_dashboard)
    d.add_argument("--host", default="localhost", help="address to listen on (localhost)")
    d.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port ({DEFAULT_PORT})")
    d.add_argument("--password-file", metavar="FILE", help="first line: the login password")


def _dashboard(args: argparse.Namespace) -> int:
    return run_dashboard(args.host, args.port, args.password_file)
