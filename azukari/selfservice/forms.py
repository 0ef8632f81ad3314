"""Forms of the self-service pages: validation only; the templates write the HTML."""

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from azukari.org.models import SiteHours
from azukari.web.forms import PageForm

HOURS = [(f"{h:02d}:00", f"{h:02d}:00") for h in range(8, 22)]


class PublicAskForm(PageForm):
    customer_number = forms.CharField(label=_("Customer number"), max_length=64)
    phone = forms.CharField(label=_("Phone number registered with us"), max_length=20)


class IdentityForm(PageForm):
    answer = forms.CharField(label=_("Your answer"), max_length=20)


class SubscriptionForm(PageForm):
    subscription = forms.IntegerField(widget=forms.HiddenInput)


class ExceptionForm(PageForm):
    subscription = forms.IntegerField(widget=forms.HiddenInput)
    ground = forms.CharField(label=_("Ground"), max_length=64)
    reason = forms.CharField(
        label=_("In your own words"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4})
    )


class QuestionForm(PageForm):
    text = forms.CharField(
        label=_("Your question"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4})
    )


class PreferencesForm(PageForm):
    days_off = forms.TypedMultipleChoiceField(
        label=_("Days not to call"),
        choices=SiteHours.Weekday.choices,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    window_start = forms.ChoiceField(
        label=_("Call me from"), choices=[("", "—"), *HOURS], required=False
    )
    window_end = forms.ChoiceField(
        label=_("Call me until"), choices=[("", "—"), *HOURS], required=False
    )

    def times(self) -> tuple[dt.time | None, dt.time | None]:
        start, end = self.cleaned_data["window_start"], self.cleaned_data["window_end"]
        if bool(start) != bool(end):
            return None, None
        return (
            dt.time.fromisoformat(start) if start else None,
            dt.time.fromisoformat(end) if end else None,
        )

    def clean(self):
        data = super().clean()
        if bool(data.get("window_start")) != bool(data.get("window_end")):
            self.add_error("window_end", _("Choose both ends of the time, or neither."))
        return data
