"""``pingan serve``: run the dashboards with Streamlit on 127.0.0.1.

The app runs in a child process (``python -m streamlit run dashboards/app.py``)
of the same interpreter, headless, listening on loopback only; the data dir is
passed through ``PINGAN_DATA_DIR``. :func:`start` is also what the browser
tests and the benchmark use, so they exercise exactly what users get.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from contracts.settings import Settings
from dashboards.gate import TRUSTED_HEADERS

APP = Path(__file__).with_name("server.py")  # app.py behind the gate (dashboards/gate.py)
HOST = "127.0.0.1"


class ServeError(Exception):
    """The server could not start (one line, actionable)."""


# Options of every page run, for `pingan serve` and for the tests' AppTest alike
# (:func:`apply_script_options`). Magic off: Streamlit's magic parses each page script
# with `ast.parse` on every run, and CPython 3.11 keeps the AST converter's recursion
# depth per interpreter, not per thread, so two sessions' runs at once can fail with
# "SystemError: AST constructor recursion depth mismatch" (seen in the suite). The
# pages write only through st.* calls, so nothing relies on magic.
SCRIPT_OPTIONS: dict[str, bool] = {"runner.magicEnabled": False}


def apply_script_options() -> None:
    """Set :data:`SCRIPT_OPTIONS` in this process (for AppTest, which runs pages here)."""
    from streamlit import config

    for name, value in SCRIPT_OPTIONS.items():
        config.set_option(name, value)


def command(port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.address",
        HOST,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--server.fileWatcherType",
        "none",
        "--server.runOnSave",
        "false",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "minimal",
        "--global.developmentMode",
        "false",
        # No forced full garbage collection after every page run: it delays the end of
        # each run by tens of milliseconds; Python's own collector still runs.
        "--runner.postScriptGC",
        "false",
        # The browser id the gate puts in a header: Streamlit resumes a session id only
        # for the same user info, so a session id from another browser resumes nothing.
        "--server.trustedUserHeaders",
        TRUSTED_HEADERS,
        # No CSV download or copy from the tables' toolbar: files leave the app only
        # through the logged exports (dashboards/export.py).
        "--client.disableDataExport",
        "true",
        *(
            arg
            for name, value in SCRIPT_OPTIONS.items()
            for arg in (f"--{name}", str(value).lower())
        ),
    ]


def port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def url(port: int) -> str:
    return f"http://{HOST}:{port}"


def start(
    port: int,
    settings: Settings,
    *,
    env: dict[str, str] | None = None,
    quiet: bool = False,
) -> subprocess.Popen:
    """Start the server in the background (not waiting for it)."""
    if not 0 < port < 65536:
        raise ServeError(f"端口 {port} 无效（1-65535）")
    if not port_free(port):
        raise ServeError(f"端口 {port} 已被占用：请用 --port 指定其他端口")
    child_env = {**os.environ, **(env or {}), "PINGAN_DATA_DIR": str(settings.data_dir)}
    out = subprocess.DEVNULL if quiet else None
    return subprocess.Popen(command(port), env=child_env, stdout=out, stderr=out)


def wait_ready(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    """Wait until Streamlit's health endpoint answers."""
    deadline = time.monotonic() + timeout
    health = f"{url(port)}/_stcore/health"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServeError(f"看板进程已退出（返回码 {proc.returncode}）")
        try:
            with urllib.request.urlopen(health, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise ServeError(f"看板在 {timeout:.0f} 秒内未就绪：{health}")


def serve(port: int, settings: Settings) -> int:
    """Run the dashboards until interrupted; prints the address."""
    if not settings.published_warehouse.exists():
        print(
            f"注意：尚未发布数据快照（{settings.published_warehouse}），看板将提示先运行 `pingan run`。",
            file=sys.stderr,
        )
    try:
        proc = start(port, settings, quiet=False)
        wait_ready(port, proc)
    except ServeError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 1
    print(f"平安数据看板已启动：{url(port)}  （Ctrl+C 停止；演示账号见 dashboards/README.md）")
    sys.stdout.flush()

    def _terminate(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)  # stop the child too when we are stopped
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        return 130
