"""The live curve's batch rows: at most one every half second, and always the last batch of each epoch."""

from mnist_core.training.callbacks import MetricsLogger


def test_the_curve_ends_where_each_epoch_ends_however_fast_the_batches_come() -> None:
    rows: list[dict] = []
    logger = MetricsLogger(rows.extend, steps_per_epoch=5, batch_size=10, interval=3600)
    for epoch in range(2):
        logger.on_epoch_begin(epoch)
        for batch in range(5):
            logger.on_train_batch_end(batch, {"loss": 0.1, "accuracy": 0.9})
    batches = [(row["epoch"], row["batch"]) for row in rows if row["kind"] == "batch"]
    assert batches == [(1, 1), (1, 5), (2, 5)]  # the first row at once, then only each epoch's end
    assert [row["seen"] for row in rows] == [10, 50, 50]
