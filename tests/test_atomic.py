"""Files written whole or not at all (atomic.replacing): the corpus file, the model's export."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from procguide.atomic import replacing

pytestmark = pytest.mark.fast


def test_a_finished_write_replaces_the_file_and_a_failed_one_leaves_it(tmp_path: Path) -> None:
    target = tmp_path / "kept.bin"
    target.write_bytes(b"old")
    with replacing(target, 0o644) as scratch:
        scratch.write_bytes(b"new")
        assert target.read_bytes() == b"old"  # a reader meanwhile sees the old file whole
    assert target.read_bytes() == b"new" and stat.S_IMODE(target.stat().st_mode) == 0o644
    with pytest.raises(RuntimeError), replacing(target) as scratch:
        scratch.write_bytes(b"half")
        raise RuntimeError("the write failed")
    assert target.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["kept.bin"]  # no scratch file left behind
