"""Worker tasks for imports: thin and idempotent."""

from azukari.dataio.models import ImportBatch, ImportStatus
from azukari.dataio.services import import_journal_sweep, import_run


def import_run_task(batch_id: int) -> str:
    """Runs a queued import; a repeated delivery of the task finds it no longer queued."""
    batch = ImportBatch.objects.filter(pk=batch_id, status=ImportStatus.QUEUED).first()
    if batch is None:
        return "skipped"
    return import_run(batch=batch).status


def import_journal_sweep_task() -> int:
    return import_journal_sweep()
