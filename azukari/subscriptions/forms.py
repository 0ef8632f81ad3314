"""Forms of the cancellation desk: they parse input; the services decide."""

from django import forms
from django.utils.translation import gettext_lazy as _

from azukari.subscriptions.models import DisclosureKind

LANGUAGES = [("ja", "日本語"), ("en", "English")]


class DecideForm(forms.Form):
    option_code = forms.CharField(label=_("Option"), max_length=64)
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ExceptionForm(forms.Form):
    ground = forms.CharField(label=_("Ground"), max_length=32)
    reason = forms.CharField(
        label=_("What the customer said"), widget=forms.Textarea(attrs={"rows": 2})
    )


class DiscloseForm(forms.Form):
    kind = forms.ChoiceField(label=_("What was told"), choices=DisclosureKind.choices)
    language = forms.ChoiceField(label=_("Language"), choices=LANGUAGES)
    option_code = forms.CharField(label=_("Option"), max_length=64, required=False)


class WithdrawForm(forms.Form):
    note = forms.CharField(
        label=_("Why the customer withdrew"), widget=forms.Textarea(attrs={"rows": 2})
    )


class RuleForm(forms.Form):
    granted = forms.TypedChoiceField(
        label=_("Ruling"),
        choices=[("1", _("Grant")), ("0", _("Refuse"))],
        coerce=lambda v: v == "1",
    )
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))


class ReportForm(forms.Form):
    date_from = forms.DateField(label=_("From"))
    date_to = forms.DateField(label=_("To"))
