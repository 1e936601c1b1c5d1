"""Read whole files in a worker process, so no reader library can take the batch down.

calamine aborts the process when an allocation fails (SIGABRT, no Python
exception), panics on some inputs and may hang; DuckDB and polars are native
code too. The worker runs :func:`ingest.readers.read_export` under an address
space limit (``RLIMIT_AS``) and, per file, a time limit; a crash, a hang, an
out-of-memory or any exception becomes a :class:`FileRejected` with a one-line
reason, and the next file gets a fresh worker.

One worker serves every file of an ingest run (spawning a Python with polars,
DuckDB and fastexcel per file would cost more than reading a small file). It is
started when the loader starts, so its imports overlap the loader's own work,
and restarted only after a crash or a timeout. The records come back as an
uncompressed Arrow IPC file in the run's temporary folder, memory-mapped by the
loader: no copy through the pipe.
"""

from __future__ import annotations

import contextlib
import errno
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING

from contracts.entities import entity as entity_named
from ingest.discovery import display
from ingest.limits import ReaderLimits
from ingest.rejection import FileRejected

if TYPE_CHECKING:
    from ingest.readers import Records

# polars and the readers are imported where used: the worker can then be started before
# the loader's own imports (polars, DuckDB), and both processes import at the same time.
from ingest.storage import is_disk_full

STARTUP_SECONDS = 120.0  # imports on a busy machine; not counted against a file's time
_READY = "ready"


class StorageFault(OSError):
    """The worker could not write its temporary files (a full disk): a run fault, not the file's."""


def _signal_name(returncode: int) -> str:
    try:
        return signal.Signals(-returncode).name
    except ValueError:
        return f"signal {-returncode}"


class IsolatedReader:
    """A long-lived reader worker: :meth:`read` one file at a time, :meth:`close` at the end."""

    def __init__(self, limits: ReaderLimits, tmp_dir: Path) -> None:
        self.limits = limits
        self.tmp_dir = tmp_dir
        self._proc: subprocess.Popen[bytes] | None = None
        self._conn: Connection | None = None
        self._stderr: tempfile._TemporaryFileWrapper[bytes] | None = None
        self._ready = False

    # -- lifecycle

    def start(self) -> None:
        """Start the worker (returns at once; it signals when its imports are done)."""
        if self._proc is not None:
            return
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        parent_end, child_end = _socketpair()
        # Lives as long as the worker (closed in _stop): its last line explains a crash.
        self._stderr = tempfile.NamedTemporaryFile(  # noqa: SIM115
            prefix="reader-", suffix=".log", dir=self.tmp_dir
        )
        env = {**os.environ, "RUST_BACKTRACE": "0"}  # a panic's message in one line
        self._proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ingest.isolation",
                str(child_end.fileno()),
                str(self.limits.worker_memory_bytes),
            ],
            pass_fds=(child_end.fileno(),),
            stdin=subprocess.DEVNULL,
            stdout=self._stderr,
            stderr=self._stderr,
            env=env,
            cwd=str(Path(__file__).resolve().parents[1]),  # the same code as the loader's
        )
        child_end.close()
        self._conn = parent_end
        self._ready = False

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def close(self) -> None:
        if self._conn is not None and self._proc is not None and self._proc.poll() is None:
            try:
                self._conn.send(None)  # ask it to exit
                self._proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self._stop()

    def _stop(self) -> None:
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.kill()
            self._proc.wait()
        if self._conn is not None:
            self._conn.close()
        if self._stderr is not None:
            self._stderr.close()
        self._proc = self._conn = self._stderr = None
        self._ready = False

    def __enter__(self) -> IsolatedReader:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading

    def read(self, path: Path) -> Records:
        """The records of ``path``; :class:`FileRejected` for anything that went wrong in it."""
        self.start()
        assert self._conn is not None
        self.wait_ready()
        assert self._conn is not None
        try:
            size = path.stat().st_size
        except OSError:
            size = 0
        timeout = self.limits.read_timeout(size)
        self._conn.send((str(path), str(self.tmp_dir), self.limits))
        started = time.monotonic()
        if not self._conn.poll(timeout):
            self._stop()
            raise FileRejected(
                f"reader timed out after {time.monotonic() - started:.0f} s "
                f"(limit {timeout:.0f} s, read_timeout_seconds); the file was not loaded"
            )
        try:
            answer = self._conn.recv()
        except (EOFError, OSError):
            raise FileRejected(self._crash_reason()) from None
        return self._unpack(answer)

    def wait_ready(self) -> None:
        """Wait until the worker has imported its libraries (not counted in a file's time)."""
        self.start()
        if self._ready:
            return
        assert self._conn is not None
        try:
            if not self._conn.poll(STARTUP_SECONDS) or self._conn.recv() != _READY:
                raise EOFError
        except (EOFError, OSError):
            reason = self._crash_reason(starting=True)
            raise RuntimeError(reason) from None
        self._ready = True

    def _crash_reason(self, starting: bool = False) -> str:
        """One line: how the worker ended and the last line it wrote (the library's message)."""
        assert self._proc is not None
        try:
            code = self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            code = self._proc.wait()
        how = f"killed by {_signal_name(code)}" if code < 0 else f"exited with status {code}"
        last = ""
        if self._stderr is not None:
            with open(self._stderr.name, "rb") as fh:
                fh.seek(max(0, os.path.getsize(self._stderr.name) - 4096))
                lines = [ln.strip() for ln in fh.read().decode("utf-8", "replace").splitlines()]
            useful = [ln for ln in lines if ln and not ln.startswith("note:")]
            last = display(useful[-1])[:200] if useful else ""
        self._stop()
        what = "the reader worker failed to start" if starting else "reader crashed"
        return f"{what} ({how})" + (f": {last}" if last else "")

    def _unpack(self, answer: tuple) -> Records:
        kind = answer[0]
        if kind == "ok":
            import polars as pl

            from ingest.readers import Records

            _, entity_name, ipc, rejected, file_format, encoding, notes = answer
            try:
                frame = pl.read_ipc(ipc)
            finally:
                os.unlink(ipc)  # the mapping keeps the data until the frame is gone
            return Records(entity_named(entity_name), frame, rejected, file_format, encoding, notes)
        if kind == "rejected":
            if answer[2]:  # out of memory or an unknown failure: the worker is not reused
                self._stop()
            raise answer[1]
        if kind == "storage":
            _, code, message, filename = answer
            raise StorageFault(code, message, filename)
        raise RuntimeError(f"unexpected answer from the reader worker: {kind}")


def _socketpair() -> tuple[Connection, Connection]:
    import multiprocessing

    a, b = multiprocessing.Pipe(duplex=True)
    os.set_inheritable(b.fileno(), True)
    return a, b


# ---------------------------------------------------------------- the worker side


def _limit_memory(nbytes: int) -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crash leaves no core file behind
    if nbytes > 0:
        resource.setrlimit(resource.RLIMIT_AS, (nbytes, nbytes))


def _serve(conn: Connection) -> None:
    import pyarrow  # noqa: F401 - DuckDB's .pl() imports it lazily; map it before any file

    from ingest import readers

    # DuckDB manages its own memory: keep it under the address space limit, so it
    # answers with an error (a rejection) before the process limit is reached.
    limit = resource.getrlimit(resource.RLIMIT_AS)[0]
    if limit > 0:
        readers._reader_connection().execute(f"set memory_limit = '{limit // 2 >> 20}MiB'")
    conn.send(_READY)
    count = 0
    while True:
        request = conn.recv()
        if request is None:
            return
        path, tmp_dir, limits = request
        count += 1
        conn.send(_read_one(Path(path), Path(tmp_dir), limits, count))


def _read_one(path: Path, tmp_dir: Path, limits: ReaderLimits, count: int) -> tuple:
    from ingest.readers import read_export

    try:
        records = read_export(path, tmp_dir, limits)
        ipc = tmp_dir / f"records-{os.getpid()}-{count}.arrow"
        records.frame.write_ipc(ipc, compression="uncompressed")
    # The third field says whether the worker must be replaced: after an out-of-memory or
    # an unknown failure its state (half-mapped libraries, leaked buffers) is not trusted.
    except FileRejected as exc:
        return ("rejected", exc, False)
    except MemoryError:
        return ("rejected", _memory_rejection(limits), True)
    except OSError as exc:
        if is_disk_full(exc) or (exc.filename and str(exc.filename).startswith(str(tmp_dir))):
            return ("storage", exc.errno or errno.EIO, exc.strerror or str(exc), exc.filename)
        return ("rejected", FileRejected(f"cannot read file: {exc.strerror or exc}"), False)
    except Exception as exc:  # any library's failure on this file is this file's rejection
        if is_disk_full(exc):
            return ("storage", errno.ENOSPC, "No space left on device", str(tmp_dir))
        text = str(exc).splitlines()[0] if str(exc) else ""
        if "memory" in text.lower() and "alloc" in text.lower():
            return ("rejected", _memory_rejection(limits), True)
        reason = f"reader failed: {type(exc).__name__}: {display(text)[:200]}"
        return ("rejected", FileRejected(reason), True)
    return (
        "ok",
        records.entity.name,
        str(ipc),
        records.rejected,
        records.file_format,
        records.encoding,
        records.notes,
    )


def _memory_rejection(limits: ReaderLimits) -> FileRejected:
    return FileRejected(
        f"reader ran out of memory (limit {limits.worker_memory_bytes >> 20:,} MiB, "
        "worker_memory_bytes); the file was not loaded"
    )


def main(argv: list[str]) -> None:
    fd, memory = int(argv[0]), int(argv[1])
    _limit_memory(memory)
    conn = Connection(fd)
    with contextlib.suppress(EOFError, KeyboardInterrupt):  # the loader went away
        _serve(conn)


if __name__ == "__main__":
    main(sys.argv[1:])
