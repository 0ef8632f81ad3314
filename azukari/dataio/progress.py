"""A terminal progress bar with rate and time left, for imports run from the command line."""

import sys
import time
from typing import TextIO

from azukari.dataio.models import ImportBatch


class ProgressBar:
    def __init__(self, stream: TextIO | None = None, width: int = 30) -> None:
        self.stream = stream or sys.stderr
        self.width = width
        self.started = time.monotonic()

    def __call__(self, batch: ImportBatch) -> None:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        share = batch.bytes_done / batch.bytes_total if batch.bytes_total else 0.0
        filled = int(self.width * share)
        rate = batch.rows_seen / elapsed
        eta = elapsed * (1 - share) / share if share > 0 else 0.0
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(
            f"\r[{bar}] {share:6.1%} {batch.rows_seen:>10,} rows "
            f"{rate:>9,.0f} rows/s  ETA {int(eta) // 60:d}:{int(eta) % 60:02d}  "
            f"errors {batch.error_count}"
        )
        self.stream.flush()

    def close(self) -> None:
        self.stream.write("\n")
        self.stream.flush()
