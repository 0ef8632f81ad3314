import pytest


@pytest.fixture(autouse=True)
def _tasks_run_inline(monkeypatch):
    """django-q2 reads Q_CLUSTER once at import, so the settings fixture cannot make queued
    tasks run inline; its Conf can."""
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", True)
