"""The worker's process tree: django-q2's cluster, stopped cleanly however it is told to stop.

`azukari worker` is a parent process, a sentinel, and the sentinel's workers, pusher and
monitor. Left as django-q2 ships it, a SIGTERM sent to the whole process group (what systemd,
Docker and `kill -- -PGID` do) kills the sentinel at once while the parent waits on a lock the
dead sentinel held: the parent hangs. A SIGKILL of the parent alone leaves the rest running
tasks with nobody to stop them. Here:

- The children block SIGTERM and SIGINT: only the parent acts on them. It asks the sentinel to
  stop (the pusher stops taking tasks, each worker finishes the task in hand, the monitor
  records the results) and waits up to the grace period; then it kills the sentinel.
- Every child dies with its parent (Linux `PR_SET_PDEATHSIG`): the parent killed, the sentinel
  goes; the sentinel killed, its workers go. A task cut short is handed out again after
  `Q_CLUSTER["retry"]`, and runs once (tasks are idempotent).
- A worker stuck past its task's timeout is killed with SIGKILL (django-q2 sends SIGTERM, which
  the children block).
"""

import ctypes
import ctypes.util
import multiprocessing
import os
import signal
import time
import uuid
from collections.abc import Callable

from django_q.cluster import Cluster, Sentinel, get_mp_context
from django_q.conf import setproctitle

STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In a freshly forked child: be killed when the process that forked it dies."""
    parent = os.getppid()
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the parent's own stop still works
        return
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


class CleanSentinel(Sentinel):
    def reincarnate(self, process) -> None:
        if process in self.pool and process.is_alive() and process.timer.value == 0:
            process.kill()  # stuck past its timeout; SIGTERM is blocked in the children
            process.join(5)
        super().reincarnate(process)

    def stop(self) -> None:
        super().stop()
        for child in multiprocessing.active_children():  # none after a clean stop
            child.kill()
            child.join(5)


class CleanCluster(Cluster):
    """django-q2's Cluster with the sentinel above; `run` replaces its signal handling."""

    def start(self) -> int:
        if setproctitle:
            setproctitle.setproctitle(f"qcluster {multiprocessing.current_process().name}")
        self.stop_event = multiprocessing.Event()
        self.start_event = multiprocessing.Event()
        self.sentinel = get_mp_context().Process(
            target=CleanSentinel,
            name=f"Process-{uuid.uuid4().hex}",
            args=(self.stop_event, self.start_event, self.cluster_id, self.broker, self.timeout),
        )
        self.sentinel.start()
        while not self.start_event.is_set():
            if not self.sentinel.is_alive():
                raise RuntimeError(f"the sentinel exited with code {self.sentinel.exitcode}")
            time.sleep(0.1)
        return self.pid

    def run(self, *, grace: float, on_stop: Callable[[str], None]) -> bool:
        """Runs until SIGTERM or SIGINT, then stops within `grace` seconds; True when every
        task in hand finished, False when the rest had to be killed."""
        received: list[int] = []
        for signum in STOP_SIGNALS:
            signal.signal(signum, lambda signum, frame: received.append(signum))
        os.register_at_fork(after_in_child=_die_with_parent)
        # Blocked while forking, so every child inherits the block; the parent unblocks.
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        try:
            self.start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        while not received and self.sentinel.is_alive():
            time.sleep(0.2)
        if not self.sentinel.is_alive():
            raise RuntimeError(f"the sentinel exited with code {self.sentinel.exitcode}")
        on_stop(signal.Signals(received[0]).name)
        self.stop_event.set()
        self.sentinel.join(grace)
        if not self.sentinel.is_alive():
            return True
        self.sentinel.kill()  # its workers, pusher and monitor die with it
        self.sentinel.join(10)
        return False
