"""Reading zip files that anyone may upload: size caps, zip-bomb guards, no path tricks.

Nothing here extracts a member to disk under its own name: callers look members up by name and
write what they read to paths of their own choosing, so a name like `../../etc/passwd` can never
escape a folder (zip slip). Names like that are still refused, so a crafted file is reported.
"""

from __future__ import annotations

import lzma
import zipfile
import zlib
from pathlib import Path, PurePosixPath

# What reading a damaged or crafted zip member can raise: zipfile's own errors, an encrypted entry
# (RuntimeError), an unknown compression method (NotImplementedError), a bad CRC or truncated member
# (BadZipFile, EOFError), and each decompressor's error.
ARCHIVE_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    NotImplementedError,
    RuntimeError,
    zlib.error,
    lzma.LZMAError,
    EOFError,
    OSError,
    ValueError,
)
_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}  # what zipfile unpacks
_ENCRYPTED = 0x1  # general-purpose flag bit 0


class UnsafeZipError(ValueError):
    """A zip file that is too large, damaged or crafted; the message says which and why."""


def open_zip(path: Path, max_file_bytes: int, max_unpacked_bytes: int, max_members: int) -> zipfile.ZipFile:
    """Open `path` as a zip after checking its size, member count, member names and unpacked size."""
    path = Path(path)
    if not path.is_file():
        raise UnsafeZipError(f"{path.name}: no such file.")
    size = path.stat().st_size
    if size > max_file_bytes:
        raise UnsafeZipError(f"{path.name} is {size / 2**20:.1f} MB; the limit is {max_file_bytes / 2**20:.0f} MB.")
    try:
        archive = zipfile.ZipFile(path)
    except ARCHIVE_ERRORS as error:
        raise UnsafeZipError(f"{path.name} is not a valid zip file ({str(error)[:120]}).") from error
    try:
        _check_members(path.name, archive.infolist(), max_unpacked_bytes, max_members)
    except UnsafeZipError:
        archive.close()
        raise
    return archive


def check_readable(name: str, members: list[zipfile.ZipInfo], remake: str = "") -> None:
    """Refuse entries zipfile cannot unpack safely: encrypted ones and unknown compression methods. Checked
    from the central directory, before any member is opened. `remake` says how to make the file again."""
    for info in members:
        member = str(info.filename)[:80]
        if info.flag_bits & _ENCRYPTED:
            raise UnsafeZipError(
                f"{name}: {member!r} is encrypted (password-protected); Digit Lab reads only zips without a "
                f"password. {remake or 'Make the zip again without one.'}"
            )
        if info.compress_type not in _METHODS:
            raise UnsafeZipError(
                f"{name}: {member!r} is compressed with method {info.compress_type}, which Digit Lab cannot "
                f"unpack. {remake or 'Make the zip again with ordinary (deflate) compression.'}"
            )


def _check_members(name: str, members: list[zipfile.ZipInfo], max_unpacked: int, max_members: int) -> None:
    if len(members) > max_members:
        raise UnsafeZipError(f"{name} holds {len(members):,} files; the limit is {max_members:,}.")
    check_readable(name, members)
    for info in members:
        if not is_safe_name(info.filename):
            raise UnsafeZipError(
                f"{name} contains an unsafe path {info.filename!r} (absolute or with '..'); refusing the whole file."
            )
    unpacked = sum(info.file_size for info in members)
    if unpacked > max_unpacked:
        raise UnsafeZipError(
            f"{name} unpacks to {unpacked / 2**20:.1f} MB; the limit is {max_unpacked / 2**20:.0f} MB."
        )


def is_safe_name(name: str) -> bool:
    """A relative member name without '..', drive letters or backslashes."""
    if not name or "\\" in name or "\x00" in name or name.startswith("/") or ":" in name.split("/")[0]:
        return False
    return ".." not in PurePosixPath(name).parts


def read_member(archive: zipfile.ZipFile, name: str, max_bytes: int) -> bytes:
    """A member's bytes, refusing more than `max_bytes` whatever its header claims."""
    info = archive.getinfo(name)
    if info.file_size > max_bytes:
        raise UnsafeZipError(
            f"{name} unpacks to {info.file_size / 2**20:.1f} MB; the limit for one file is {max_bytes / 2**20:.1f} MB."
        )
    try:
        with archive.open(info) as handle:
            data = handle.read(max_bytes + 1)
    except ARCHIVE_ERRORS as error:
        raise UnsafeZipError(f"{name} in the zip is damaged ({str(error)[:120]}).") from error
    if len(data) > max_bytes:
        raise UnsafeZipError(f"{name} unpacks to more than {max_bytes / 2**20:.1f} MB; the limit for one file.")
    return data
