"""Worker tasks for imports: thin and idempotent."""

from django.utils import timezone

from azukari.dataio.models import ImportBatch, ImportStatus
from azukari.dataio.services import import_journal_sweep, import_run


def import_run_task(batch_id: int) -> str:
    """Runs a queued import. The run claims the batch first (queued → running in one
    UPDATE), so a task delivered twice, even at the same moment, runs the import once."""
    claimed = ImportBatch.objects.filter(pk=batch_id, status=ImportStatus.QUEUED).update(
        status=ImportStatus.RUNNING, heartbeat_at=timezone.now()
    )
    if not claimed:
        return "skipped"
    return import_run(batch=ImportBatch.objects.get(pk=batch_id)).status


def import_journal_sweep_task() -> int:
    return import_journal_sweep()
