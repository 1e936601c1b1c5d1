import socket
import sys

from contracts.settings import Settings
from dashboards import serve


def test_server_listens_on_loopback_only_and_headless():
    cmd = serve.command(8501)
    assert cmd[:4] == [sys.executable, "-m", "streamlit", "run"]
    assert cmd[cmd.index("--server.address") + 1] == "127.0.0.1"
    assert cmd[cmd.index("--server.headless") + 1] == "true"
    assert cmd[cmd.index("--browser.gatherUsageStats") + 1] == "false"


def test_the_served_app_is_behind_the_gate_and_its_tables_export_nothing():
    cmd = serve.command(8501)
    assert cmd[4].endswith("dashboards/server.py")  # app.py behind dashboards/gate.py
    assert cmd[cmd.index("--client.disableDataExport") + 1] == "true"
    assert "X-Pingan-Browser" in cmd[cmd.index("--server.trustedUserHeaders") + 1]


def test_a_busy_port_is_a_one_line_error_and_exit_code_1(tmp_path, capsys):
    settings = Settings(data_dir=tmp_path, warehouse=tmp_path / "w.duckdb")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        assert serve.serve(port, settings) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == f"错误：端口 {port} 已被占用：请用 --port 指定其他端口"
    assert "尚未发布数据快照" in err[0]  # and it says the snapshot is missing
