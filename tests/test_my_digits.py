"""My digits: add, list, delete, export and import, with every bad input named."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mnist_core import my_digits
from mnist_core.my_digits import MyDigitsError, add_digit, delete_digit, list_digits
from mnist_core.my_digits.archive import export_npz, export_zip, import_file


def digit(seed: int = 0) -> np.ndarray:
    """A float32 (28, 28) image with a bar of ink whose place depends on the seed."""
    image = np.zeros((28, 28), np.float32)
    image[4:24, 6 + seed % 10 : 9 + seed % 10] = np.linspace(0.2, 1.0, 20)[:, None]
    return image


def png(pixels: np.ndarray, mode: str = "L") -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).convert(mode).save(buffer, format="PNG")
    return buffer.getvalue()


def make_zip(path: Path, members: dict[str, bytes | str]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "my_digits"


def test_add_list_delete_round_trip(folder):
    first = add_digit(digit(1), 7, folder)
    second = add_digit(digit(2), np.int64(1), folder)
    samples = list_digits(folder)
    assert [s.id for s in samples] == [first, second]
    assert [s.label for s in samples] == [7, 1]
    assert samples[0].image.dtype == np.float32 and samples[0].image.shape == (28, 28)
    np.testing.assert_allclose(samples[0].image, digit(1), atol=0.5 / 255)
    assert samples[0].created_at <= samples[1].created_at
    delete_digit(first, folder)
    assert [s.id for s in list_digits(folder)] == [second]
    assert my_digits.count_by_label(folder)[1] == 1


def test_folder_defaults_beside_the_runs_folder(tmp_path, monkeypatch):
    monkeypatch.delenv(my_digits.MY_DIGITS_ENV, raising=False)
    monkeypatch.setenv("DIGIT_LAB_RUNS_DIR", str(tmp_path / "data" / "runs"))
    assert my_digits.my_digits_dir() == (tmp_path / "data" / "my_digits").resolve()
    monkeypatch.setenv(my_digits.MY_DIGITS_ENV, str(tmp_path / "elsewhere"))
    add_digit(digit(), 3)
    assert len(list(tmp_path.joinpath("elsewhere").glob("*.png"))) == 1


def test_missing_folder_lists_nothing(tmp_path):
    assert list_digits(tmp_path / "nope") == []


def test_unreadable_and_foreign_files_are_skipped(folder):
    add_digit(digit(), 4, folder)
    (folder / "0000000000000-abcdef.png").write_bytes(b"not a png")
    (folder / "notes.png").write_bytes(png(np.full((28, 28), 255, np.uint8)))
    assert [s.label for s in list_digits(folder)] == [4]


BAD_DIGITS = [
    (np.zeros((28, 27), np.float32), 1, "must be a (28, 28) image; got shape (28, 27)"),
    (np.ones((28, 28), np.uint8), 1, "got dtype uint8 (divide uint8 by 255)"),
    (np.full((28, 28), np.nan, np.float32), 1, "must not contain NaN"),
    (np.full((28, 28), 2.0, np.float32), 1, "values in [0, 1]; got [2, 2]"),
    (np.zeros((28, 28), np.float32), 1, "empty (no ink)"),
    (digit(), 10, "whole number from 0 to 9; got 10"),
    (digit(), -1, "got -1"),
    (digit(), 3.0, "got 3.0"),
    (digit(), "3", "got '3'"),
    (digit(), True, "got True"),
]


@pytest.mark.parametrize(("image", "label", "message"), BAD_DIGITS, ids=[m for *_, m in BAD_DIGITS])
def test_add_digit_rejects_bad_input(folder, image, label, message):
    with pytest.raises(MyDigitsError) as error:
        add_digit(image, label, folder)
    assert message in str(error.value)
    assert list_digits(folder) == []


def test_delete_unknown_id(folder):
    with pytest.raises(MyDigitsError, match="no digit '../etc'"):
        delete_digit("../etc", folder)


def test_add_refuses_when_full(folder, monkeypatch):
    monkeypatch.setattr(my_digits, "MAX_DIGITS", 2)
    add_digit(digit(), 1, folder)
    add_digit(digit(), 2, folder)
    with pytest.raises(MyDigitsError, match="full"):
        add_digit(digit(), 3, folder)


def test_digits_added_within_one_millisecond_keep_their_order(folder, tmp_path, monkeypatch):
    monkeypatch.setattr(my_digits.time, "time", lambda: 1_800_000_000.0)  # a clock that does not move
    for i in range(30):
        add_digit(digit(i), i % 10, folder)
    assert [s.label for s in list_digits(folder)] == [i % 10 for i in range(30)]
    export_npz(tmp_path / "mine.npz", folder)
    import_file(tmp_path / "mine.npz", folder)  # a second import right after the first one, too
    assert [s.label for s in list_digits(folder)] == [i % 10 for i in range(30)] * 2


def test_export_then_import_zip_and_npz(folder, tmp_path):
    for i in range(5):
        add_digit(digit(i), i, folder)
    assert export_zip(tmp_path / "mine.zip", folder) == 5
    assert export_npz(tmp_path / "mine.npz", folder) == 5
    other = tmp_path / "other"
    assert import_file(tmp_path / "mine.zip", other) == 5
    assert import_file(tmp_path / "mine.npz", other) == 5
    samples = list_digits(other)
    assert [s.label for s in samples] == [0, 1, 2, 3, 4] * 2
    for a, b in zip(list_digits(folder), samples[:5], strict=True):
        np.testing.assert_array_equal(a.image, b.image)


def test_import_zip_with_a_folder_header_less_csv_and_rgb_pngs(tmp_path, folder):
    pixels = np.round(digit() * 255).astype(np.uint8)
    path = make_zip(
        tmp_path / "d.zip",
        {"set/labels.csv": "a.png,3\n\nb.png, 8\n", "set/a.png": png(pixels, "RGB"), "set/b.png": png(pixels, "RGBA")},
    )
    assert import_file(path, folder) == 2
    assert [s.label for s in list_digits(folder)] == [3, 8]


def test_import_npz_float_images(tmp_path, folder):
    np.savez(tmp_path / "f.npz", images=np.stack([digit(1), digit(2)]), labels=np.array([5, 6]))
    assert import_file(tmp_path / "f.npz", folder) == 2


PIXELS = np.round(digit() * 255).astype(np.uint8)
BAD_ZIPS = [
    ({"a.png": png(PIXELS)}, "found no labels.csv"),
    ({"labels.csv": "file,label\n", "x/labels.csv": ""}, "found 2 labels.csv"),
    ({"labels.csv": "file,label\n"}, "holds no digits"),
    ({"labels.csv": "a.png,3\n"}, "labels.csv line 1: no file 'a.png' in the zip"),
    ({"labels.csv": "file,label\na.png,x\n", "a.png": png(PIXELS)}, "line 2: label 'x' is not a digit 0-9"),
    ({"labels.csv": "a.png,10\n", "a.png": png(PIXELS)}, "label '10' is not a digit"),
    ({"labels.csv": "a.png,1,2\n", "a.png": png(PIXELS)}, "expected 2 columns (file,label); got 3"),
    ({"labels.csv": "a.png,1\n", "a.png": png(np.zeros((30, 28), np.uint8))}, "a.png is 28x30 pixels"),
    ({"labels.csv": "a.png,1\n", "a.png": png(np.zeros((28, 28), np.uint8))}, "a.png is blank"),
    ({"labels.csv": "a.png,1\n", "a.png": b"garbage"}, "a.png is not a readable PNG"),
    ({"labels.csv": b"\xff\xfe,1\n"}, "labels.csv is not UTF-8"),
    ({"labels.csv": "../a.png,1\n", "a.png": png(PIXELS)}, "no file '../a.png'"),
    ({"labels.csv": "a.png,1\n", "../a.png": png(PIXELS)}, "unsafe path '../a.png'"),
    ({"labels.csv": "a.png,1\n", "/abs.png": png(PIXELS)}, "unsafe path '/abs.png'"),
]


@pytest.mark.parametrize(("members", "message"), BAD_ZIPS, ids=[m for _, m in BAD_ZIPS])
def test_import_rejects_bad_zips(tmp_path, folder, members, message):
    path = make_zip(tmp_path / "bad.zip", members)
    with pytest.raises(MyDigitsError) as error:
        import_file(path, folder)
    assert message in str(error.value)
    assert list_digits(folder) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.zip"]  # nothing written anywhere


def npz_bytes(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


BAD_NPZ = [
    (npz_bytes(images=np.zeros((1, 28, 28))), "needs arrays 'images' and 'labels'; it has images"),
    (npz_bytes(images=np.ones((2, 28)), labels=np.zeros(2, int)), "shape (N, 28, 28); got (2, 28)"),
    (npz_bytes(images=np.ones((1, 28, 28), np.int32), labels=np.zeros(1, int)), "got int32"),
    (npz_bytes(images=np.full((1, 28, 28), np.nan), labels=np.zeros(1, int)), "NaN or infinite"),
    (npz_bytes(images=np.full((1, 28, 28), 3.0), labels=np.zeros(1, int)), "must be in [0, 1]; got [3, 3]"),
    (npz_bytes(images=np.ones((2, 28, 28), np.uint8), labels=np.zeros(3, int)), "shape (2,) to match"),
    (npz_bytes(images=np.ones((1, 28, 28), np.uint8), labels=np.zeros(1)), "whole numbers 0-9; got dtype float64"),
    (npz_bytes(images=np.ones((2, 28, 28), np.uint8), labels=np.array([1, 12])), "labels[1] is 12"),
    (npz_bytes(images=np.stack([PIXELS, PIXELS * 0]), labels=np.array([1, 2])), "images[1] is blank"),
    (npz_bytes(images=np.zeros((0, 28, 28), np.uint8), labels=np.zeros(0, int)), "holds no digits"),
    (npz_bytes(images=np.array([object()] * 1, dtype=object), labels=np.zeros(1, int)), "could not read"),
    (b"not a zip", "not a valid zip file"),
]


@pytest.mark.parametrize(("data", "message"), BAD_NPZ, ids=[m for _, m in BAD_NPZ])
def test_import_rejects_bad_npz(tmp_path, folder, data, message):
    path = tmp_path / "bad.npz"
    path.write_bytes(data)
    with pytest.raises(MyDigitsError) as error:
        import_file(path, folder)
    assert message in str(error.value)
    assert list_digits(folder) == []


def test_import_rejects_other_types_and_missing_files(tmp_path, folder):
    with pytest.raises(MyDigitsError, match=r"unsupported file type \.png"):
        import_file(tmp_path / "x.png", folder)
    with pytest.raises(MyDigitsError, match="no such file"):
        import_file(tmp_path / "x.zip", folder)


def test_import_caps_sizes(tmp_path, folder, monkeypatch):
    bomb = make_zip(tmp_path / "bomb.zip", {"labels.csv": "a.png,1\n", "a.png": b"\0" * 3_000_000})
    with pytest.raises(MyDigitsError, match="a.png unpacks to 2.9 MB; the limit for one file is 1.0 MB"):
        import_file(bomb, folder)
    monkeypatch.setattr("mnist_core.my_digits.archive.MAX_IMPORT_BYTES", 1000)
    with pytest.raises(MyDigitsError, match="the limit is 0 MB"):
        import_file(bomb, folder)


def test_import_respects_the_digit_limit(tmp_path, folder, monkeypatch):
    np.savez(tmp_path / "three.npz", images=np.stack([PIXELS] * 3), labels=np.array([1, 2, 3]))
    monkeypatch.setattr(my_digits, "MAX_DIGITS", 2)
    with pytest.raises(MyDigitsError, match="would exceed the limit of 2"):
        import_file(tmp_path / "three.npz", folder)
    assert list_digits(folder) == []
