"""My data: what the server keeps for a person (`inventory`), one zip of all of it (`export`), deleting all of it
(`delete`), and how long it is kept (`retention`), in plain words (`words`). Nothing here imports TensorFlow."""

from mnist_core.privacy.delete import Deletion, delete_all
from mnist_core.privacy.export import MAX_EXPORT_BYTES, export_zip
from mnist_core.privacy.inventory import (
    Holder,
    Inventory,
    Item,
    PrivacyError,
    check_person_id,
    people_with_data,
    take_inventory,
)
from mnist_core.privacy.retention import RETENTION_ENV, Removal, cleanup, cleanup_if_due, retention_days
from mnist_core.privacy.words import retention_text, size_text, summary_lines

__all__ = [
    "MAX_EXPORT_BYTES", "RETENTION_ENV", "Deletion", "Holder", "Inventory", "Item", "PrivacyError", "Removal",
    "check_person_id", "cleanup", "cleanup_if_due", "delete_all", "export_zip", "people_with_data",
    "retention_days", "retention_text", "size_text", "summary_lines", "take_inventory",
]  # fmt: skip
