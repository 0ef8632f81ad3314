"""Texts the system writes into a case's history and inquiries, kept as a code and parameters.

A sentence the system composes (an inquiry asking the client for an exception, "customer
unreachable after 3 attempts") is read later by people in other languages: an English-speaking
client approver, a Japanese operator. So it is stored as a code with its parameters and put
into words in the reader's language when shown. The text as the writer's language put it is
kept as well, for search, exports and rows written before codes existed.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext, gettext_lazy


@dataclass(frozen=True)
class SystemText:
    """A text the system writes: `str()` puts it into words in the active language."""

    code: str
    params: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return render(self.code, self.params)


def _sentence(template) -> Callable[[dict[str, Any]], str]:
    return lambda params: str(template) % params


def _site(params: dict[str, Any]) -> str:
    return gettext("Moved back to %(site)s.") % params


def _exception_question(params: dict[str, Any]) -> str:
    """The inquiry asking the client to rule on an exception (see cancellation_exception_ask)."""
    from azukari.subscriptions.policy.explain import yen
    from azukari.subscriptions.policy.rules import BuiltinGround
    from azukari.subscriptions.selectors import option_label

    code = params["ground"]
    builtin = code in BuiltinGround.values
    ground = str(BuiltinGround(code).label) if builtin else params.get("ground_label") or code
    lines = [
        gettext("The customer asks for an exception on the ground “%(ground)s”: %(reason)s")
        % {"ground": ground, "reason": params["reason"]},
        gettext(
            "First asked on %(date)s; %(made)d of %(required)d deliveries made; policy "
            "version %(version)d."
        )
        % {k: params[k] for k in ("date", "made", "required", "version")},
        gettext("Options under the policy:"),
    ]
    for o in params["options"]:
        lines.append(
            "- "
            + gettext("%(option)s: %(cost)s, effective %(date)s, %(n)d deliveries to ship")
            % {
                "option": option_label(o["code"], o.get("ground_label", "")),
                "cost": yen(o["cost"]),
                "date": o["date"],
                "n": o["n"],
            }
        )
    return "\n".join(lines)


RENDERERS: dict[str, Callable[[dict[str, Any]], str]] = {
    "callback_unreachable": _sentence(gettext_lazy("Customer unreachable after %(n)d attempts.")),
    "released_left": _sentence(
        gettext_lazy("Back to the team: the person it was assigned to has left.")
    ),
    "approvers_reminded": _sentence(gettext_lazy("Approvers reminded (%(n)d e-mails).")),
    "escalated": _sentence(
        gettext_lazy("Escalated to the client's escalation contact (%(n)d e-mails).")
    ),
    "moved_back": _site,
    "reopen_window_passed": _sentence(gettext_lazy("Closed: the reopen window passed.")),
    "exception_question": _exception_question,
}


def render(code: str, params: dict[str, Any]) -> str:
    """The text of `code` in the active language ("" for a code this version does not know)."""
    renderer = RENDERERS.get(code)
    if renderer is None:
        return ""
    try:
        return renderer(params or {})
    except (KeyError, TypeError, ValueError):
        return ""


def _exception_options(params: dict[str, Any]) -> dict[str, str]:
    from azukari.subscriptions.policy.explain import yen
    from azukari.subscriptions.selectors import option_label

    asked = "exception:" + params["ground"]
    labels = {"refuse": gettext("Refuse: the customer keeps the standard options")}
    for o in params["options"]:
        if o["code"] == asked:
            labels["grant"] = gettext("Grant: %(option)s, %(cost)s") % {
                "option": option_label(o["code"], o.get("ground_label", "")),
                "cost": yen(o["cost"]),
            }
    return labels


# Labels of the options an inquiry offers, when the system wrote them, by the question's code.
OPTION_RENDERERS: dict[str, Callable[[dict[str, Any]], dict[str, str]]] = {
    "exception_question": _exception_options,
}


def options_shown(code: str, params: dict[str, Any], options: list[dict]) -> list[dict]:
    """An inquiry's options with the system's labels in the active language."""
    renderer = OPTION_RENDERERS.get(code)
    try:
        labels = renderer(params) if renderer else {}
    except (KeyError, TypeError, ValueError):
        labels = {}
    return [{**o, "label": labels.get(o["code"], o.get("label", ""))} for o in options]


def stored(text: "str | SystemText") -> tuple[str, str, dict[str, Any]]:
    """What a row keeps of `text`: the words as written now, the code and the parameters."""
    if isinstance(text, SystemText):
        return str(text), text.code, dict(text.params)
    return str(text), "", {}
