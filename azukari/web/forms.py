"""Forms of the pages: explicit fields only, nothing assigned that the form does not name."""

import math
from pathlib import Path

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.forms.renderers import Jinja2
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from azukari.audit.netaddr import client_ip
from azukari.audit.throttle import login_failure_record, login_failures_clear, login_wait
from azukari.core.errors import DomainError


class PageFormRenderer(Jinja2):
    """Jinja2's copies of Django's own form templates give the same HTML about three times
    faster, which an operator feels on every screen pop. Two of them come from web/jinja2
    first: a select writes its options itself instead of two templates per option, and a
    field without errors renders no error list; the HTML is the same."""

    @cached_property
    def engine(self):
        return self.backend(
            {
                "APP_DIRS": False,
                "DIRS": [
                    Path(__file__).parent / "jinja2",
                    Path(forms.__file__).parent / "jinja2",
                ],
                "NAME": "pageforms",
                "OPTIONS": {},
            }
        )


# One instance: each holds its compiled templates. The admin keeps Django's renderer, whose
# widgets have no Jinja2 templates.
JINJA2_FORMS = PageFormRenderer()


def apply_domain_error(
    form: forms.Form, exc: DomainError, fields: dict[str, str] | None = None
) -> None:
    """Puts a service's refusal next to the field it names, in the user's language
    (`fields`: the service's name for a field the form calls otherwise)."""
    field = (fields or {}).get(exc.field or "", exc.field)
    form.add_error(field if field in form.fields else None, str(exc.message))


class PageForm(forms.Form):
    default_renderer = JINJA2_FORMS


class ThrottledAuthenticationForm(AuthenticationForm):
    """Refuses to even check the password while the name or address is locked out."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "throttled": _("Too many failed attempts. Try again in %(minutes)d minutes."),
    }

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        ip = client_ip(self.request)
        wait = login_wait(username=username, ip=ip)
        if wait is not None:
            raise forms.ValidationError(
                self.error_messages["throttled"],
                code="throttled",
                params={"minutes": max(1, math.ceil(wait.total_seconds() / 60))},
            )
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            if username:
                login_failure_record(username=username, ip=ip)
            raise
        login_failures_clear(username=username)
        return cleaned


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("Code from your authenticator app"),
        min_length=6,
        max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class EnrolmentCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Enrolment code from your administrator"),
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )


class RevealForm(forms.Form):
    field = forms.CharField(max_length=20)
    purpose = forms.CharField(max_length=200)


class NamedStaffForm(forms.Form):
    note = forms.CharField(max_length=300, required=False)
