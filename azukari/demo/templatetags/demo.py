from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def demo_mode() -> bool:
    """Whether this is the demo (AZUKARI_DEMO), where demo-only controls are shown."""
    return bool(getattr(settings, "AZUKARI_DEMO", False))
