"""Deployment check: the audit key must be a key of its own.

Outside production the key falls back to the secret key (or the demo's key), which is fine for
the demo and tests; a deployment that keeps it gives whoever holds the secret key (every app
server's environment) the power to rebuild the audit chain after editing it.
"""

from django.conf import settings
from django.core.checks import Tags, Warning, register

DEMO_KEY_PREFIX = "django-insecure"


@register(Tags.security, deploy=True)
def audit_key_is_its_own(app_configs=None, **kwargs) -> list[Warning]:
    key = getattr(settings, "AZUKARI_AUDIT_KEY", "")
    if key == settings.SECRET_KEY or key.startswith(DEMO_KEY_PREFIX):
        return [
            Warning(
                "AZUKARI_AUDIT_KEY is the secret key or the demo key.",
                hint="Set AZUKARI_AUDIT_KEY to a random value of its own, kept apart from "
                "the database backups; see docs/security.md.",
                id="azukari.W001",
            )
        ]
    return []
