from django import forms
from django.utils.translation import gettext_lazy as _

from azukari.dataio.models import ImportKind
from azukari.org.models import Client


class UploadForm(forms.Form):
    client = forms.ModelChoiceField(label=_("client"), queryset=Client.objects.none())
    kind = forms.ChoiceField(label=_("kind"), choices=ImportKind.choices)
    file = forms.FileField(label=_("file (CSV or .xlsx)"))
    encoding = forms.ChoiceField(
        label=_("encoding"),
        required=False,
        choices=[("", _("detect")), ("utf-8", "UTF-8"), ("cp932", "CP932 (Shift_JIS)")],
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = Client.objects.filter(pk__in=user.visible_client_ids())
