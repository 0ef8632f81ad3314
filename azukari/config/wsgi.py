import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "azukari.config.settings")
application = get_wsgi_application()

# The idle desk's "no call for you" answered before Django's request handling.
from azukari.web.incoming import IncomingCheck  # noqa: E402

application = IncomingCheck(application)
