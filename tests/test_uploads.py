"""Uploaded models: refused when empty or too big, stored under a name made from their content."""

import pytest

from ui import uploads


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"x" * 101, "models up to"),
    ],
)
def test_save_upload_refuses_empty_and_oversized_files(tmp_path, data, message):
    with pytest.raises(ValueError, match=message):
        uploads.save_upload(data, tmp_path, max_bytes=100)


def test_save_upload_uses_a_generated_name_in_the_uploads_folder(tmp_path):
    first = uploads.save_upload(b"model bytes", tmp_path, max_bytes=100)
    again = uploads.save_upload(b"model bytes", tmp_path, max_bytes=100)
    assert first == again and first.parent == tmp_path / "uploads"
    assert first.name.startswith("upload-") and first.suffix == ".keras"
    assert first.read_bytes() == b"model bytes"
