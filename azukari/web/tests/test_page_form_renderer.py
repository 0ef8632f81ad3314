"""The pages' form renderer writes exactly the HTML of Django's own Jinja2 form templates."""

from django import forms
from django.forms.renderers import Jinja2

from azukari.web.forms import JINJA2_FORMS


class Everything(forms.Form):
    kind = forms.ChoiceField(
        label="Kind",
        choices=[("", "—"), ("a", "A & <b>"), ("Group", [("g1", "One"), ("g2", "Two")])],
        widget=forms.Select(attrs={"autofocus": True, "data-x": "1"}),
    )
    many = forms.MultipleChoiceField(label="Many", choices=[("x", "X"), ("y", "Y")])
    maybe = forms.NullBooleanField(label="Maybe", required=False)
    radio = forms.ChoiceField(label="Radio", choices=[("r", "R")], widget=forms.RadioSelect)
    note = forms.CharField(label="Note", help_text="Say <why>", max_length=10)
    hidden = forms.IntegerField(widget=forms.HiddenInput, required=False)


def _both(**kwargs) -> tuple[str, str]:
    ours = Everything(renderer=JINJA2_FORMS, **kwargs)
    django = Everything(renderer=Jinja2(), **kwargs)
    return ours.as_div(), django.as_div()


def test_an_unbound_form_is_the_same_html():
    ours, django = _both(initial={"kind": "g2", "many": ["y"]})
    assert ours == django
    assert '<option value="g2" selected>Two</option>' in ours


def test_a_form_with_errors_is_the_same_html():
    ours, django = _both(data={"kind": "zzz", "note": "far too long a note"})
    assert ours == django
    assert 'class="errorlist"' in ours
