"""A failed write leaves the old file as it was (dsl/files.py), checked with a real file-size limit."""

import os
import subprocess
import sys

import pytest

from netdsl.dsl.files import replace_atomically, write_text

LIMITED_WRITE = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)        # a write past the limit raises OSError (EFBIG)
resource.setrlimit(resource.RLIMIT_FSIZE, (1024, 1024))
from netdsl.dsl.files import write_text
write_text(sys.argv[1], "x" * 100_000)
"""


def test_a_write_past_the_file_size_limit_keeps_the_old_file(tmp_path):
    target = tmp_path / "kept.net"
    target.write_text("net old\n" * 400)
    before = target.read_bytes()
    done = subprocess.run([sys.executable, "-c", LIMITED_WRITE, str(target)], capture_output=True, text=True)
    assert done.returncode != 0 and "File too large" in done.stderr
    assert target.read_bytes() == before
    assert os.listdir(tmp_path) == ["kept.net"]  # no temporary file left behind


def test_an_error_in_the_writer_keeps_the_old_file(tmp_path):
    target = tmp_path / "model.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), replace_atomically(target) as temporary:
        temporary.write_bytes(b"half")
        raise RuntimeError("disk full")
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["model.bin"]


def test_a_complete_write_replaces_the_file_and_keeps_its_mode(tmp_path):
    target = tmp_path / "a.net"
    target.write_text("old")
    os.chmod(target, 0o640)
    write_text(target, "new")
    assert target.read_text() == "new"
    assert os.stat(target).st_mode & 0o777 == 0o640
    fresh = tmp_path / "b.net"
    write_text(fresh, "made")
    assert os.stat(fresh).st_mode & 0o777 == 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
