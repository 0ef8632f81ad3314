from django import forms
from django.utils.translation import gettext_lazy as _

from azukari.dataio.models import ImportKind
from azukari.dataio.services import import_fields
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


class MappingForm(forms.Form):
    """Which of our fields each column of the file holds: one list per column, chosen from
    the fields of this kind of import (or left out)."""

    def __init__(self, *args, kind: str, header: list[str], initial_columns: dict[int, str], **kw):
        super().__init__(*args, **kw)
        self.header = header
        choices = [("", _("— not imported —")), *import_fields(kind)]
        for index, title in enumerate(header):
            self.fields[f"col_{index}"] = forms.ChoiceField(
                label=title or _("column %(n)d") % {"n": index + 1},
                choices=choices,
                required=False,
                initial=initial_columns.get(index, ""),
            )

    def columns(self) -> dict[str, str]:
        """{header: field} for the columns given a field."""
        return {
            self.header[index]: self.cleaned_data[f"col_{index}"]
            for index in range(len(self.header))
            if self.cleaned_data.get(f"col_{index}")
        }
