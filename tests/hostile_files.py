"""Hostile files built in the tests (issue 32), never stored: zips with encrypted entries or unknown
compression methods, HDF5 weights that declare far more than they hold, PNGs that are huge when decoded."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

ENCRYPTED_FLAG = 0x1


def patched_zip(data: bytes, flag_bits: int = 0, method: int | None = None, member: str | None = None) -> bytes:
    """`data` (a zip) with `flag_bits` set and/or the compression method changed on `member` (default: every
    entry), in both its local header and the central directory, as a crafted file would have them."""
    out = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        targets = {info.filename: info.header_offset for info in archive.infolist()}
    eocd = out.rindex(b"PK\x05\x06")
    entries, central = struct.unpack_from("<HI", out, eocd + 10)[0], struct.unpack_from("<I", out, eocd + 16)[0]
    places = []
    for _ in range(entries):
        assert out[central : central + 4] == b"PK\x01\x02"
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", out, central + 28)
        name = out[central + 46 : central + 46 + name_len].decode()
        if member is None or name == member:
            places += [(central + 8, central + 10), (targets[name] + 6, targets[name] + 8)]
        central += 46 + name_len + extra_len + comment_len
    for flag_at, method_at in places:
        struct.pack_into("<H", out, flag_at, struct.unpack_from("<H", out, flag_at)[0] | flag_bits)
        if method is not None:
            struct.pack_into("<H", out, method_at, method)
    return bytes(out)


def png_header_bomb(side: int) -> bytes:
    """A valid greyscale PNG of side x side black pixels: tiny on the wire, side**2 bytes and more decoded."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    packer, row, parts = zlib.compressobj(9), b"\x00" * (side + 1), []  # filter byte 0, then the row
    for _ in range(side):
        parts.append(packer.compress(row))
    parts.append(packer.flush())
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", b"".join(parts)) + chunk(b"IEND", b"")


def rewritten(source: Path, out: Path, weights: bytes | None = None, patch=None) -> Path:
    """A copy of the .keras zip `source` with model.weights.h5 replaced by `weights`, then `patch` applied."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as new:
        for info in old.infolist():
            data = weights if info.filename == "model.weights.h5" and weights is not None else old.read(info)
            new.writestr(info.filename, data)
    data = buffer.getvalue()
    out.write_bytes(patch(data) if patch else data)
    return out


def shape_bomb_weights(source: Path, declared: int) -> bytes:
    """The model's weights file plus a chunked dataset that declares `declared` float32s and writes none."""
    import h5py

    with zipfile.ZipFile(source) as archive:
        original = archive.read("model.weights.h5")
    buffer = io.BytesIO(original)
    with h5py.File(buffer, "a") as h5:
        h5.create_dataset("layers/dense/vars/bomb", shape=(declared,), dtype="float32", chunks=(4096,))
    return buffer.getvalue()


def reused_conv_model(calls: int):
    """One Conv2D called `calls` times: its parameters count once, its compute every time."""
    import keras

    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Conv2D(64, 3, padding="same")(inputs)
    shared = keras.layers.Conv2D(64, 3, padding="same")
    for _ in range(calls):
        x = shared(x)
    outputs = keras.layers.Dense(10)(keras.layers.Flatten()(keras.layers.MaxPooling2D(4)(x)))
    return keras.Model(inputs, outputs)
