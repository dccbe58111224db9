"""Where outputs land: one writer per target, whole-or-absent replacement, leftovers of killed runs cleared.

A target (an output folder or file) is written into a hidden temporary sibling and renamed into place at the
end. While it is written, a lock file beside it (`.NAME.lock`, an `flock`) is held: a second writer of the same
target is refused at once instead of silently replacing the first; and a sibling `.NAME.XXXXXXXX.tmp` or
`.NAME.old-PID` found while holding the lock was left by a killed writer (they hold full bank lists) and is
removed. A name too long to carry these suffixes within 255 bytes is shortened to a prefix plus a hash. Every
OS error becomes one OutputError line naming the target and the reason.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from subsidy_engine.errors import OutputError

NAME_MAX = 255  # bytes of one path component on the file systems we write to
STEM_MAX = NAME_MAX - 16  # room for ".old-PID", ".XXXXXXXX.tmp", ".lock", ".cross-check.csv"
REASONS = {
    errno.EACCES: "没有写入权限",
    errno.EPERM: "没有写入权限",
    errno.EROFS: "文件系统是只读的",
    errno.ENOSPC: "磁盘空间不足",
    errno.EDQUOT: "磁盘配额已用完",
    errno.ENAMETOOLONG: "名称太长(一段路径最多 255 字节)",
    errno.ENOTDIR: "路径中有一段不是目录",
    errno.EISDIR: "这是一个目录",
    errno.ENOENT: "所在目录不存在",
    errno.EBUSY: "正被占用(挂载点不能被整体替换)",
    errno.EXDEV: "跨越了文件系统(挂载点不能被整体替换)",
    errno.EEXIST: "已经存在",
    errno.EIO: "读写出错(磁盘故障?)",
}
_ERRNO_IN_TEXT = re.compile(r"\[Errno (\d+)\]|errno (\d+)")
_NO_LOCKS = {errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL}


def reason(exc: OSError) -> str:
    """The reason of an OS error in words, with the errno name (pyarrow's errors carry it only in the text)."""
    code = exc.errno
    if code is None:
        m = _ERRNO_IN_TEXT.search(str(exc))
        code = int(m.group(1) or m.group(2)) if m else None
    name = errno.errorcode.get(code, type(exc).__name__) if code is not None else type(exc).__name__
    return f"{REASONS.get(code, '系统错误') if code is not None else '系统错误'}({name})"


@contextlib.contextmanager
def os_errors(target: str | Path) -> Iterator[None]:
    """Any OSError in the block becomes `OutputError: 无法写入 TARGET:REASON`."""
    try:
        yield
    except OSError as exc:
        raise OutputError(f"无法写入 {target}:{reason(exc)}") from None


def stem(name: str) -> str:
    """The name the hidden siblings are made from: the name itself, or a prefix and a hash when too long."""
    raw = name.encode("utf-8", "surrogateescape")
    if len(raw) <= STEM_MAX:
        return name
    prefix = raw[:100].decode("utf-8", "ignore")
    return f"{prefix}~{hashlib.sha256(raw).hexdigest()[:12]}"


def lock_path(target: Path) -> Path:
    return target.parent / f".{stem(target.name)}.lock"


def check_target(target: str | Path, *, overwrite: bool, folder: bool = True, parents: bool = True) -> Path:
    """Refuse a target that cannot be written, before any work: name too long, parent missing (unless
    `parents`) or not a folder, a file where a folder goes (or the reverse), a mount point, or a non-empty
    folder / existing file without `overwrite`."""
    t = Path(target)
    kind = "输出目录" if folder else "输出文件"
    with os_errors(t):
        size = len(t.name.encode("utf-8", "surrogateescape"))
        if size > NAME_MAX:
            raise OutputError(f"{kind}名称太长:{size} 字节,一段路径最多 {NAME_MAX} 字节")
        parent = t.parent
        if not parent.exists():
            if not parents:
                raise OutputError(f"上级目录 {parent} 不存在;请先创建它(不会自动创建上级目录)")
        elif not parent.is_dir():
            raise OutputError(f"{parent} 不是目录,无法在其中写入 {t.name}")
        if folder:
            if t.exists() and not t.is_dir():
                raise OutputError(f"输出位置 {t} 已存在且不是目录")
            if t.is_dir() and os.path.ismount(t):
                raise OutputError(f"输出目录 {t} 是一个挂载点,不能整体替换;请用其中的一个子目录")
            if t.is_dir() and any(t.iterdir()) and not overwrite:
                raise OutputError(f"输出目录 {t} 已有文件;换一个目录,或加 --overwrite 覆盖")
        else:
            if t.is_dir():
                raise OutputError(f"输出位置 {t} 是一个目录,不是文件")
            if t.exists() and not overwrite:
                raise OutputError(f"输出文件 {t} 已存在;换一个名字,或加 --overwrite 覆盖")
    return t


@contextlib.contextmanager
def target_lock(target: Path) -> Iterator[None]:
    """Hold the target's lock file for the block, or refuse at once if another writer holds it.

    The lock file is removed on release; a writer that opened it just before checks it locked the file
    still at that path (same inode), else tries again. File systems without flock are written unlocked."""
    path = lock_path(target)
    fd: int | None
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise OutputError(f"另一个计算正在写入 {target};请等它结束,或换一个输出位置") from None
        except OSError as exc:
            os.close(fd)
            if exc.errno not in _NO_LOCKS:
                raise
            fd = None
            break
        try:
            now, mine = os.stat(path), os.fstat(fd)
            same = (now.st_ino, now.st_dev) == (mine.st_ino, mine.st_dev)
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        yield
    finally:
        if fd is not None:
            with contextlib.suppress(OSError):
                os.unlink(path)
            os.close(fd)


def stale_siblings(target: Path) -> list[Path]:
    """The hidden siblings a writer of `target` leaves while it works (`.NAME.XXXXXXXX.tmp`, `.NAME.old-PID`).
    Found while holding the target's lock, they belong to a writer that was killed."""
    pattern = re.compile(rf"\.{re.escape(stem(target.name))}\.(?:[a-z0-9_]{{8}}\.tmp|old-\d+)")
    if not target.parent.is_dir():
        return []
    return sorted(p for p in target.parent.iterdir() if pattern.fullmatch(p.name))


def clear_stale(target: Path) -> list[Path]:
    """Remove the leftovers of killed writers of `target` (call with its lock held)."""
    removed = []
    for p in stale_siblings(target):
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                p.unlink()
        removed.append(p)
    return removed


@contextlib.contextmanager
def atomic_folder(out: str | Path, *, overwrite: bool = False, parents: bool = True) -> Iterator[Path]:
    """A temporary sibling folder to write into, renamed to `out` when the block ends without error and
    removed when it fails: `out` appears whole or not at all. `out` must be new or empty unless `overwrite`;
    missing parent folders are created only with `parents`. OSErrors of the block itself are not converted."""
    out = Path(out)
    with contextlib.ExitStack() as stack:
        with os_errors(out):
            if parents:
                out.parent.mkdir(parents=True, exist_ok=True)
            check_target(out, overwrite=overwrite, parents=parents)
            stack.enter_context(target_lock(out))
            check_target(out, overwrite=overwrite, parents=parents)  # again, now that no one else writes
            clear_stale(out)
            tmp = Path(tempfile.mkdtemp(prefix=f".{stem(out.name)}.", suffix=".tmp", dir=out.parent))
        try:
            yield tmp
            with os_errors(out):
                _swap_in(tmp, out)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise


def _swap_in(tmp: Path, out: Path) -> None:
    """Rename tmp to out; a non-empty out is moved aside first and removed after (put back if that fails)."""
    if out.is_dir() and any(out.iterdir()):
        trash = out.parent / f".{stem(out.name)}.old-{os.getpid()}"
        out.rename(trash)
        try:
            tmp.rename(out)
        except BaseException:
            trash.rename(out)
            raise
        shutil.rmtree(trash, ignore_errors=True)
    else:
        tmp.rename(out)  # onto nothing, or onto an empty folder (rename replaces an empty directory)


@contextlib.contextmanager
def atomic_file(path: str | Path, *, overwrite: bool = False, parents: bool = True) -> Iterator[Path]:
    """A temporary sibling file to write, renamed to `path` at the end (removed on failure); the same lock,
    checks and clearing as `atomic_folder`."""
    target = Path(path)
    with contextlib.ExitStack() as stack:
        with os_errors(target):
            if parents:
                target.parent.mkdir(parents=True, exist_ok=True)
            check_target(target, overwrite=overwrite, folder=False, parents=parents)
            stack.enter_context(target_lock(target))
            check_target(target, overwrite=overwrite, folder=False, parents=parents)
            clear_stale(target)
            fd, name = tempfile.mkstemp(prefix=f".{stem(target.name)}.", suffix=".tmp", dir=target.parent)
            os.close(fd)
        tmp = Path(name)
        try:
            yield tmp
            with os_errors(target):
                os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
