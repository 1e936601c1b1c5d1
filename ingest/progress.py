"""Progress of a long command: live bars on a terminal, plain one-line steps elsewhere.

One display for ``pingan ingest``, ``pingan sample`` and ``pingan run`` (and the
Dagster ingest step, which writes its lines to the run's log). The caller opens a
:class:`Progress`, starts tasks (``files``, ``dbt models``, ``checks`` ...) and advances
them; what is shown depends on where the output goes:

* a terminal: rich's live display, one bar per task with ``n/N`` (or a spinner and
  a count when the total is unknown), the counts the caller keeps (rows ...) and the
  time taken; lines the caller writes scroll above the bars;
* anything else (a pipe, a CI log, Dagster's log): no control characters and no
  redraws, only lines: the caller's lines, an item's line when it is done, and a
  task's closing line when the caller gives one.

rich is used rather than hand-written redraws because it handles terminal width,
refresh from its own thread and cleaning up on exit.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.progress import Progress as RichProgress


def _counts_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{n:,} {name}" for name, n in counts.items())


class Task:
    """One thing being counted (files, models, checks); from :meth:`Progress.task`."""

    def __init__(self, owner: Progress, description: str, total: int | None, unit: str) -> None:
        self.owner = owner
        self.description = description
        self.total = total
        self.unit = unit
        self.completed = 0
        self.counts: dict[str, int] = {}
        self.started = time.perf_counter()
        self._id: TaskID | None = None
        if owner.bars is not None:
            self._id = owner.bars.add_task(description, total=total, counts=unit)

    def advance(self, steps: int = 1, *, item: str | None = None, **counts: int) -> None:
        """``steps`` more done; ``counts`` (e.g. ``rows=20``) add up; ``item`` is a line
        about what was just done (shown above the bars, or written as a plain line)."""
        with self.owner.lock:
            self.completed += steps
            for name, n in counts.items():
                self.counts[name] = self.counts.get(name, 0) + n
            if item is not None:
                self.owner.line(item)
            if self.owner.bars is not None and self._id is not None:
                self.owner.bars.update(self._id, completed=self.completed, counts=self._label())

    def set_total(self, total: int | None) -> None:
        with self.owner.lock:
            self.total = total
            if self.owner.bars is not None and self._id is not None:
                self.owner.bars.update(self._id, total=total)

    def _label(self) -> str:
        counted = _counts_text(self.counts)
        return f"{self.unit}, {counted}" if counted else self.unit

    def summary(self) -> str:
        """``description: n/N unit, counts, in s`` (the closing line of a plain task)."""
        done = f"{self.completed:,}" + (f"/{self.total:,}" if self.total is not None else "")
        seconds = time.perf_counter() - self.started
        return f"{self.description}: {done} {self._label()} in {seconds:.1f} s"

    def finish(self, line: str | None = None) -> None:
        """The task is over: its bar stops (filled when it has a total); ``line``, if
        given, is written in either mode (e.g. :meth:`summary`)."""
        with self.owner.lock:
            if self.owner.bars is not None and self._id is not None:
                total = self.total if self.total is not None else self.completed
                self.owner.bars.update(
                    self._id, total=total, completed=self.completed, counts=self._label()
                )
                self.owner.bars.stop_task(self._id)
            if line is not None:
                self.owner.line(line)


class Progress:
    """The progress display of one command; a context manager.

    ``console``: where to show it (default: standard output as it is now, so a later
    ``contextlib.redirect_stdout`` does not capture the display). ``live``: bars or
    plain lines (default: bars exactly when the console is a terminal). ``write``
    replaces the plain-line output (the Dagster step passes its logger)."""

    def __init__(
        self,
        console: Console | None = None,
        *,
        live: bool | None = None,
        write: Callable[[str], None] | None = None,
    ) -> None:
        self.console = console or Console(file=sys.stdout, highlight=False)
        self.live = self.console.is_terminal if live is None else live
        self.write = write
        self.lock = threading.RLock()  # the run's event watcher advances from its own thread
        self.bars: RichProgress | None = None
        if self.live:
            self.bars = RichProgress(
                SpinnerColumn(),
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[counts]}"),
                TimeElapsedColumn(),
                console=self.console,
                # The display writes to its own console only: commands that capture
                # stdout (dbt's log echo) must not capture the bars, nor the bars them.
                redirect_stdout=False,
                redirect_stderr=False,
            )

    @classmethod
    def plain(cls, write: Callable[[str], None]) -> Progress:
        """Plain lines handed to ``write`` (e.g. a Dagster step's ``context.log.info``)."""
        return cls(Console(file=sys.stderr), live=False, write=write)

    def __enter__(self) -> Progress:
        if self.bars is not None:
            self.bars.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.bars is not None:
            self.bars.stop()

    def task(self, description: str, total: int | None = None, unit: str = "") -> Task:
        with self.lock:
            return Task(self, description, total, unit)

    def line(self, text: str) -> None:
        """A line of output: above the bars on a terminal, else as it is (no markup)."""
        with self.lock:
            if self.write is not None:
                self.write(text)
            elif self.bars is not None:
                self.bars.console.print(text, markup=False, highlight=False, soft_wrap=True)
            else:
                print(text, file=self.console.file, flush=True)
