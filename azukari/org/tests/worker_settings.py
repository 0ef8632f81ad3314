"""Settings for worker processes started by the worker tests and benchmarks.

The product's settings, with django-q2's redelivery times taken from the environment so a
test can kill a worker and see its tasks come back in seconds instead of minutes.
"""

from azukari.config.env import env_int
from azukari.config.settings import *  # noqa: F403
from azukari.config.settings import Q_CLUSTER

Q_CLUSTER = {
    **Q_CLUSTER,
    "retry": env_int("AZUKARI_TEST_Q_RETRY", Q_CLUSTER["retry"]),
    "timeout": env_int("AZUKARI_TEST_Q_TIMEOUT", Q_CLUSTER["timeout"]),
    "workers": env_int("AZUKARI_WORKERS", 1),
    "poll": 0.2,
    "bulk": env_int("AZUKARI_TEST_Q_BULK", Q_CLUSTER.get("bulk", 1)),
}
