"""Two existing paths swapped in one system call (Linux ``renameat2(RENAME_EXCHANGE)``): ``geo.atomic`` puts a
run's staged folder in place of the old one with no moment without a folder."""

from __future__ import annotations

import errno
import functools
import os
from collections.abc import Callable
from pathlib import Path


@functools.cache
def _renameat2() -> Callable[..., int] | None:
    import ctypes  # only on the first swap: a no-op re-check imports this module

    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):  # not Linux, or a C library older than glibc 2.28
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


def rename_exchange(source: Path, target: Path) -> bool:
    """Swap two existing paths in one step (Linux ``renameat2(RENAME_EXCHANGE)``). False when the system or
    file system cannot, or ``target`` is missing; the caller then renames."""
    function = _renameat2()
    if function is None:
        return False
    at_fdcwd, exchange = -100, 2
    if function(at_fdcwd, os.fsencode(source), at_fdcwd, os.fsencode(target), exchange) == 0:
        return True
    import ctypes

    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOENT):
        return False
    raise OSError(code, os.strerror(code), str(target))
