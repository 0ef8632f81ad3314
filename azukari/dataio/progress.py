"""A terminal progress bar with rate and time left, for imports run from the command line."""

import sys
from typing import TextIO

from django.utils.translation import gettext as _
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from azukari.dataio.models import ImportBatch


class ProgressBar:
    """Share of the file read, rows, rows/s, time left and errors, drawn by rich.

    Called with the import record after every few thousand rows; `close()` ends the bar.
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self.progress = Progress(
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[rows]:>10,} " + _("rows")),
            TextColumn("{task.fields[rate]:>9,.0f} " + _("rows/s")),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            TextColumn(_("errors") + " {task.fields[errors]}"),
            console=Console(file=stream or sys.stderr),
        )
        self.task = self.progress.add_task("import", total=None, rows=0, rate=0.0, errors=0)
        self.progress.start()

    def __call__(self, batch: ImportBatch) -> None:
        elapsed = self.progress.tasks[0].elapsed or 0.0
        self.progress.update(
            self.task,
            total=batch.bytes_total or None,
            completed=batch.bytes_done,
            rows=batch.rows_seen,
            rate=batch.rows_seen / elapsed if elapsed > 0 else 0.0,
            errors=batch.error_count,
        )

    def close(self) -> None:
        self.progress.stop()
