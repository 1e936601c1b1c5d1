"""Which paths under a landing folder are deliveries: the one walk ingest and the sensors share.

Everything a walk meets is either a delivery (a regular file, read later) or
*refused* with a one-line reason, so that it gets a ledger row instead of a
traceback or silence:

* a symbolic link is never followed out of the folder that was named (the
  folder is trusted, what was delivered into it is not); a link to a file
  inside it is the file it points to, a link to a folder is not entered;
* FIFOs, sockets and devices are refused from ``lstat`` alone, never opened
  (opening a FIFO blocks until someone writes to it);
* a name that is not valid UTF-8 is refused (it cannot be stored or shown as
  text; the ledger holds its escaped form);
* folders deeper than ``max_folder_depth`` and folders that cannot be listed
  are refused; the walk is iterative, so no depth overflows a stack.

:func:`display` is how any name is printed or logged: control and other
invisible characters escaped, so a file name cannot write to the terminal.
"""

from __future__ import annotations

import os
import stat
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

# Names that are never deliveries: hidden files, office lock files, partial downloads.
IGNORED_PREFIXES = (".", "~$")
IGNORED_SUFFIXES = (".tmp", ".part", ".crdownload", ".partial")

# Categories shown escaped: controls, format characters (bidi overrides), surrogates
# (undecodable bytes), private use, unassigned, line and paragraph separators.
_ESCAPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def display(text: str) -> str:
    """``text`` safe to print or log on one line: invisible characters as ``\\x..``/``\\u....``.

    A byte that was not valid UTF-8 (a surrogate escape) is shown as that byte."""
    if text.isprintable():
        return text
    out = []
    for ch in text:
        if unicodedata.category(ch) not in _ESCAPED_CATEGORIES:
            out.append(ch)
            continue
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:  # os.fsdecode's escape of an undecodable byte
            out.append(f"\\x{code - 0xDC00:02x}")
        elif code <= 0xFF:
            out.append(f"\\x{code:02x}")
        else:
            out.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
    return "".join(out)


def is_ignored(name: str) -> bool:
    return name.startswith(IGNORED_PREFIXES) or name.lower().endswith(IGNORED_SUFFIXES)


def undecodable(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


@dataclass(frozen=True)
class Found:
    """A path met by the walk: a delivery (``refusal`` None) or a refused path and why."""

    path: Path
    refusal: str | None = None

    @property
    def name(self) -> str:
        """The file name as stored in the ledger and shown: escaped when not valid UTF-8."""
        return display(self.path.name) if undecodable(self.path.name) else self.path.name

    @property
    def stored_path(self) -> str:
        return display(str(self.path)) if undecodable(str(self.path)) else str(self.path)


class PathRefused(Exception):
    """A path named on the command line cannot be ingested; the message is one line."""


def _kind(mode: int) -> str | None:
    """What a non-regular, non-folder, non-link file is, for the refusal reason."""
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return None if stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISLNK(mode) else "not a file"


def _inside(target: Path, root: Path) -> bool:
    return target == root or root in target.parents


def classify(path: Path, root: Path) -> Found | None:
    """One entry met under ``root`` (resolved): a delivery, a refusal, or None for a folder.

    Only ``lstat`` is used on the entry itself: nothing is opened."""
    if undecodable(str(path)):
        return Found(path, "file name is not valid UTF-8 text: not read (rename the file)")
    try:
        st = path.lstat()
    except FileNotFoundError:
        return Found(path, None)  # gone since listed: the loader records it as missing
    except OSError as exc:
        return Found(path, f"cannot examine: {exc.strerror}")
    if stat.S_ISLNK(st.st_mode):
        try:
            target = path.resolve(strict=True)
            target_st = target.stat()
        except (OSError, RuntimeError):  # dangling, or a loop of links
            return Found(path, "symbolic link to nothing readable: not followed")
        if not _inside(target, root):
            return Found(path, "symbolic link pointing outside the landing folder: not followed")
        if stat.S_ISDIR(target_st.st_mode):
            return Found(path, "symbolic link to a folder: not entered")
        kind = _kind(target_st.st_mode)
        if kind is not None:
            return Found(path, f"symbolic link to {kind}: not opened")
        return Found(target, None)
    if stat.S_ISDIR(st.st_mode):
        return None
    kind = _kind(st.st_mode)
    if kind is not None:
        return Found(path, f"{kind}, not a regular file: not opened")
    return Found(path, None)


def walk(folder: Path, max_depth: int, root: Path | None = None) -> Iterator[Found]:
    """Everything under ``folder``, depth-first, iteratively; ignored names left out.

    Links are judged against ``root`` (default: the folder itself)."""
    root = (root or folder).resolve()
    return _walk(folder, max_depth, max_depth, root)


def _walk(folder: Path, levels: int, max_depth: int, root: Path) -> Iterator[Found]:
    stack: list[tuple[Path, int]] = [(folder, 0)]
    while stack:
        current, depth = stack.pop()
        try:
            with os.scandir(current) as entries:
                children = sorted(entries, key=lambda e: e.name)
        except OSError as exc:
            yield Found(current, f"cannot list folder: {exc.strerror}")
            continue
        subfolders: list[Path] = []
        for entry in children:
            if is_ignored(entry.name):
                continue
            path = Path(entry.path)
            found = classify(path, root)
            if found is not None:
                yield found
            elif depth + 1 > levels:
                yield Found(path, _too_deep(max_depth))
            else:
                subfolders.append(path)
        stack.extend((p, depth + 1) for p in reversed(subfolders))


def _too_deep(max_depth: int) -> str:
    return f"folder nested more than {max_depth} levels deep: not searched (limit max_folder_depth)"


def discover(paths: Iterable[Path], max_depth: int, *, landing: Path | None = None) -> list[Found]:
    """Deliveries and refusals under ``paths``, in a stable order, each path once.

    A named folder is walked (links in it judged against it). Without ``landing`` the paths were named on the command
    line: a named file must exist (else ``FileNotFoundError``) and be a regular file
    or a link to one (the user chose it), else :class:`PathRefused`. With ``landing``
    (pipeline runs, which name the files a landing scan found) a named file is judged
    as the walk of ``landing`` judges it, and a refusal becomes a ledger row; a file
    gone since the scan is passed on, for the loader to record as missing.
    """
    found: dict[str, Found] = {}
    for path in paths:
        # A folder named on the command line is walked even through a link (the user
        # chose it); in a landing folder, a link to a folder is refused.
        if not path.is_dir() or (landing is not None and path.is_symlink()):
            item = _named(path, landing)
            if item is not None:
                found.setdefault(str(item.path), item)
            continue
        items: Iterable[Found] = walk(path, max_depth)
        if landing is not None and landing.absolute() in path.absolute().parents:
            # A folder a landing scan refused (too deep, unlistable) is judged as it was.
            depth = len(path.absolute().relative_to(landing.absolute()).parts)
            items = (
                [Found(path, _too_deep(max_depth))]
                if depth > max_depth
                else _walk(path, max_depth - depth, max_depth, landing.resolve())
            )
        for item in items:
            key = str(item.path.resolve() if item.refusal is None else item.path)
            found.setdefault(key, item)
    return sorted(found.values(), key=lambda f: str(f.path))


def _named(path: Path, landing: Path | None) -> Found | None:
    if is_ignored(path.name):
        return None
    if landing is not None:
        if not os.path.lexists(path):
            return Found(path, None)  # the loader records it as missing
        inside = landing.absolute() in path.absolute().parents
        item = classify(path, landing.resolve() if inside else path.parent.resolve())
        return item or Found(path, "symbolic link to a folder: not entered")
    if not os.path.lexists(path):
        raise FileNotFoundError(f"no such file or folder: {display(str(path))}")
    item = classify(path, Path("/")) or Found(path, "not a file")
    if item.refusal is not None:
        raise PathRefused(f"{display(str(path))}: {item.refusal}")
    return Found(item.path.resolve(), None)
