"""Fixed-window counters in Django's cache, for the API and export limits.

With the default local-memory cache each server process counts alone; a shared cache
(CACHES) makes the limit hold across processes.
"""

import time

from django.core.cache import cache


def window_count(name: str, subject: object, window_seconds: int) -> tuple[int, int]:
    """Counts one more event of `subject` in the current window: (count so far, seconds
    until the window ends)."""
    now = time.time()
    key = f"azukari:{name}:{subject}:{int(now // window_seconds)}"
    cache.add(key, 0, window_seconds * 2)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, window_seconds * 2)
        count = 1
    return count, int(window_seconds - now % window_seconds) + 1
