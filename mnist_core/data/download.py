"""Download full MNIST into the Keras cache, where `data.load_mnist()` finds it on its next call.

The file is the one `keras.datasets.mnist.load_data()` fetches, checked against the same SHA-256.
urllib rather than `keras.utils.get_file`: get_file writes straight to the final name and keeps a
file whose hash is wrong, prints its own progress bar, has no timeout or size cap, and imports
TensorFlow. Here the bytes stream into a hidden temp file beside the target, which replaces the
target only once its hash and its arrays check out: whatever fails, no file is left behind.
Nothing here imports TensorFlow or Streamlit.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import socket
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from mnist_core.data import ENV_VAR, DataError, _keras_cache_path  # the cache path load_mnist() reads
from mnist_core.data import formats as fmt
from mnist_core.storage import StorageError, atomic_path

URL_ENV = "DIGIT_LAB_MNIST_URL"  # another address for mnist.npz (a mirror)
SHA256_ENV = "DIGIT_LAB_MNIST_SHA256"  # the mirror's hash, if its file is not byte-for-byte Keras'
KERAS_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
KERAS_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"  # keras/src/datasets/mnist.py
KERAS_BYTES = 11_490_434
MAX_BYTES = 64 * 1024 * 1024  # refuse anything larger: MNIST is 11 MB
TIMEOUT_S = 30.0  # for connecting and for each read
CHUNK_BYTES = 256 * 1024
_WHAT_TO_DO = (
    f"Nothing was saved and the embedded sample still works. Try again when online, set {URL_ENV} to a mirror "
    f"of mnist.npz you can reach, or set {ENV_VAR} to a folder holding the MNIST files."
)

Progress = Callable[[int, int | None], None]  # (bytes done, bytes in all or None when unknown)


class DownloadError(DataError):
    """MNIST could not be downloaded; the message says what went wrong and what to do."""


@dataclass(frozen=True)
class Download:
    """A finished download: where the file is and what it holds."""

    path: Path
    url: str
    size: int  # bytes
    sha256: str
    n_train: int
    n_test: int
    downloaded: bool  # False when a file with the right hash was already there


def mnist_url() -> str:
    """The address to download from: $DIGIT_LAB_MNIST_URL, else the Keras source."""
    return os.environ.get(URL_ENV, "").strip() or KERAS_URL


def expected_sha256() -> str:
    """The hash the file must have: $DIGIT_LAB_MNIST_SHA256, else that of Keras' mnist.npz."""
    return os.environ.get(SHA256_ENV, "").strip().lower() or KERAS_SHA256


def download_mnist(
    url: str | None = None,
    sha256: str | None = None,
    target: Path | None = None,
    progress: Progress | None = None,
    force: bool = False,
    timeout: float = TIMEOUT_S,
    max_bytes: int = MAX_BYTES,
) -> Download:
    """Download mnist.npz from `url` to `target` (default: the Keras cache), checking its hash.

    Parameters
    ----------
    url : address of mnist.npz (default `mnist_url()`); http or https only.
    sha256 : the file's expected SHA-256 in hex (default `expected_sha256()`).
    target : where to put it (default `$KERAS_HOME/datasets/mnist.npz`, which `load_mnist()` reads).
    progress : called with (bytes done, bytes in all or None) after every chunk.
    force : download even if `target` already has the expected hash.
    timeout : seconds allowed to connect and for each read.
    max_bytes : a larger file is refused (before the download when the server says its size).

    Raises DownloadError (a DataError) with a message for people; then `target` is as it was.
    """
    url, sha256 = url or mnist_url(), (sha256 or expected_sha256()).lower()
    target = Path(target) if target is not None else _keras_cache_path()
    if urlsplit(url).scheme not in ("http", "https"):
        raise DownloadError(f"{url!r} is not an http(s) address. Set {URL_ENV} to the address of an mnist.npz.")
    if not force and target.is_file() and _file_sha256(target) == sha256:
        return _described(target, url, sha256, downloaded=False)
    made = _missing_folders(target.parent)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(target, suffix=".part") as tmp:
            _fetch(url, tmp, sha256, progress, timeout, max_bytes)
            counts = _check_arrays(tmp, url)
    except OSError as error:  # the network's OSErrors became DownloadError in _fetch: this is the disk
        _remove_folders(made)
        raise DownloadError(f"{_disk_message(error, target)} {_WHAT_TO_DO}") from error
    except BaseException:
        _remove_folders(made)
        raise
    return Download(target, url, target.stat().st_size, sha256, *counts, downloaded=True)


def _fetch(url: str, tmp: Path, sha256: str, progress: Progress | None, timeout: float, max_bytes: int) -> None:
    """Stream `url` into `tmp`; DownloadError unless all of it came and its hash is `sha256`."""
    digest, done = hashlib.sha256(), 0
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(tmp, "wb") as out:
            total = _declared_size(response, url, max_bytes)
            while chunk := response.read(CHUNK_BYTES):
                done += len(chunk)
                if done > max_bytes:
                    raise DownloadError(f"{url} sent more than {max_bytes:,} bytes; MNIST is 11 MB. {_WHAT_TO_DO}")
                digest.update(chunk)
                out.write(chunk)
                if progress is not None:
                    progress(done, total)
    except urllib.error.HTTPError as error:
        raise DownloadError(f"{url} answered HTTP {error.code} {error.reason}. {_WHAT_TO_DO}") from None
    except (TimeoutError, urllib.error.URLError, http.client.HTTPException, ConnectionError) as error:
        raise DownloadError(_network_message(url, error, done, timeout)) from None
    if total is not None and done < total:
        raise DownloadError(f"The download from {url} stopped after {done:,} of {total:,} bytes. {_WHAT_TO_DO}")
    if digest.hexdigest() != sha256:
        raise DownloadError(
            f"The file from {url} is damaged or is not MNIST: its SHA-256 is {digest.hexdigest()}, expected "
            f"{sha256}. {_WHAT_TO_DO}"
        )


def _declared_size(response, url: str, max_bytes: int) -> int | None:
    """The Content-Length, if the server gave one; DownloadError if it is over the cap."""
    length = response.headers.get("Content-Length")
    total = int(length) if length and length.isdigit() else None
    if total is not None and total > max_bytes:
        raise DownloadError(f"{url} offers {total:,} bytes; MNIST is 11 MB, so this is not it. {_WHAT_TO_DO}")
    return total


def _network_message(url: str, error: Exception, done: int, timeout: float) -> str:
    """Offline, refused, timed out or cut off: what happened, in words."""
    host = urlsplit(url).netloc
    reason = getattr(error, "reason", error)
    if isinstance(reason, TimeoutError):
        what = f"{host} did not answer within {timeout:g} s (a slow or broken connection)"
    elif isinstance(reason, socket.gaierror):
        what = f"Could not find {host} (no network, or a wrong address)"
    elif isinstance(reason, ConnectionRefusedError):
        what = f"{host} refused the connection (nothing is serving there, or you are offline)"
    elif done:
        what = f"The download from {url} broke off after {done:,} bytes ({reason})"
    else:
        what = f"Could not download {url} ({reason})"
    return f"{what}. {_WHAT_TO_DO}"


def _disk_message(error: OSError, target: Path) -> str:
    """A StorageError already names the file and the fix; any other OSError gets the same shape."""
    if isinstance(error, StorageError):
        return error.strerror
    reason = error.strerror or error
    return f"Could not write {target}: {reason}. Check that the folder is writable, or set KERAS_HOME to one."


def _missing_folders(folder: Path) -> list[Path]:
    """The folders mkdir(parents=True) would create for `folder`, deepest first."""
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    return missing


def _remove_folders(folders: list[Path]) -> None:
    """Undo a failed download's mkdir, so it leaves nothing behind (only folders that are still empty)."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return


def _check_arrays(path: Path, url: str) -> tuple[int, int]:
    """The train and test counts of a downloaded npz; DownloadError if its arrays are not MNIST digits."""
    try:
        arrays = fmt.read_npz(path)
    except DataError as error:
        raise DownloadError(f"The file from {url} is not a usable mnist.npz: {error} {_WHAT_TO_DO}") from None
    return len(arrays["y_train"]), len(arrays["y_test"])


def _described(path: Path, url: str, sha256: str, downloaded: bool) -> Download:
    arrays = fmt.read_npz(path)
    return Download(path, url, path.stat().st_size, sha256, len(arrays["y_train"]), len(arrays["y_test"]), downloaded)


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
