"""Writing a user's file without ever destroying the one that was there.

Every file netdsl writes (a formatted `.net`, a saved model, a results CSV, a picture, predictions)
goes through `replace_atomically`: the new content is written to a temporary file in the same
folder, flushed to disk, and renamed over the target only once it is complete. A write that fails
half-way (disk full, a file-size limit, an exception in the writer) leaves the old file exactly as
it was and removes the temporary one. The rename is atomic on POSIX and Windows within one folder.

Reading one is bounded: `unpacked_size_problem` says when the arrays of a zip archive (an `.npz`
of data, a checkpoint) would unpack to more than this machine's memory, before any is read.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


@contextlib.contextmanager
def replace_atomically(path, suffix: str | None = None):
    """Yield a temporary path beside `path`; when the block ends without an error, the temporary
    file replaces `path` (keeping the old file's permission bits). `suffix` (default: `path`'s)
    is for writers that choose the format from the name (Keras's `.keras`, matplotlib's `.png`)."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    handle, temporary = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=target.suffix if suffix is None else suffix, dir=folder
    )
    os.close(handle)
    temporary = Path(temporary)
    try:
        yield temporary
        with open(temporary, "rb+") as written:  # on disk before the rename, not only in a cache
            os.fsync(written.fileno())
        os.chmod(temporary, _mode_for(target))
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise


def _mode_for(target: Path) -> int:
    """The old file's permission bits, or what a plain `open(path, "w")` would give a new file
    (mkstemp makes its file readable by its owner only)."""
    try:
        return os.stat(target).st_mode & 0o7777
    except OSError:
        umask = os.umask(0o022)
        os.umask(umask)
        return 0o666 & ~umask


def write_bytes(path, data: bytes) -> None:
    """`Path(path).write_bytes(data)`, but the old file survives a failed write."""
    with replace_atomically(path) as temporary:
        temporary.write_bytes(data)


def write_text(path, text: str, encoding: str = "utf-8") -> None:
    """`Path(path).write_text(text)`, but the old file survives a failed write."""
    write_bytes(path, text.encode(encoding))


def unpacked_size_problem(archive, members) -> str | None:
    """Why the `members` of the zip `archive` cannot be read here, or None: their unpacked size
    exceeds this machine's memory. A small compressed file can claim gigabytes (a zip bomb), and
    reading it would exhaust memory rather than fail; a member is read with at most its declared
    size, so the claim bounds it."""
    from netdsl.dsl.shapes import memory_limit  # through the package, where a test may replace it

    limit = memory_limit()
    claimed = sum(info.file_size for info in archive.infolist() if info.filename in members)
    if limit is not None and claimed > limit:
        return f"unpack to {claimed / 2**30:,.1f} GiB, more than this machine's memory ({limit / 2**30:,.1f} GiB)"
    return None
