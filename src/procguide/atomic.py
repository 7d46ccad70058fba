"""Files written whole or not at all: a reader (another process) sees the old file or the new one,
never half of one."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def replacing(target: Path, mode: int | None = None) -> Iterator[Path]:
    """A scratch path beside `target` to write to; when the block ends without an error, it
    replaces `target` (with permissions `mode` if given: mkstemp makes it 0600); otherwise it is
    removed and `target` is untouched."""
    handle, scratch = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}-", suffix=".tmp")
    os.close(handle)
    try:
        yield Path(scratch)
        if mode is not None:
            os.chmod(scratch, mode)
        os.replace(scratch, target)
    finally:
        Path(scratch).unlink(missing_ok=True)
