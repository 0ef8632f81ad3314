"""Worker tasks of the reports app: thin, idempotent."""

from azukari.reports.services import backlog_snapshot_take


def backlog_snapshot_daily() -> int:
    """Run once a day (and safely again): the day's snapshot is replaced, never doubled."""
    return backlog_snapshot_take()
