"""Plain-language explanations an operator can read out, in the customer's language.

Every sentence quotes only the engine's facts (counts, dates, amounts it computed from the
sign-up terms and the policy), so the explanation can never claim more than the terms say.
English source strings go through gettext; `explain(option, "ja")` reads the Japanese catalog.
"""

import datetime as dt

from django.utils import translation
from django.utils.translation import gettext, ngettext

from azukari.subscriptions.policy.rules import (
    ApprovalLevel,
    ChargeMethod,
    FeeBasis,
    Option,
    OptionCode,
    OptionKind,
)


def yen(amount: int) -> str:
    return gettext("%(amount)s yen") % {"amount": f"{amount:,}"}


def day(value: dt.date) -> str:
    return gettext("%(year)d-%(month)02d-%(day)02d") % {
        "year": value.year,
        "month": value.month,
        "day": value.day,
    }


def _in_sentence(label: str) -> str:
    """A label read inside a sentence: "Bereavement" becomes "bereavement"; an initialism
    ("DV") and a script without case stay as they are."""
    if len(label) > 1 and label[0].isupper() and not label[1].isupper():
        return label[0].lower() + label[1:]
    return label


def _deliveries(n: int) -> str:
    return ngettext("%(n)d delivery", "%(n)d deliveries", n) % {"n": n}


def _approval(level: str) -> str:
    if level == ApprovalLevel.OPERATOR:
        return gettext("It can be granted on this call.")
    if level == ApprovalLevel.SV:
        return gettext("It needs a supervisor's approval; we will tell you the answer.")
    return gettext("It needs the company's approval; we will call you back with its answer.")


def _commitment(option: Option) -> str:
    facts = option.facts
    return gettext(
        "The minimum commitment is %(required)s, and %(made)s had been made by your "
        "first request on %(date)s."
    ) % {
        "required": _deliveries(facts.required),
        "made": _deliveries(facts.deliveries_made),
        "date": day(facts.first_requested_on),
    }


def _sentences(option: Option) -> list[str]:
    facts = option.facts
    effective = {"date": day(option.effective_on)}
    if option.code == OptionCode.CANCEL_NOW and facts.deliveries_made >= facts.required:
        if facts.required == 0:
            first = gettext("Your plan has no minimum number of deliveries.")
        else:
            first = _commitment(option)
        return [
            first,
            gettext("You can cancel now at no charge. The cancellation takes effect on %(date)s.")
            % effective,
        ]
    if option.code == OptionCode.CANCEL_NOW:
        return [
            _commitment(option),
            gettext(
                "You can cancel now with no cancellation fee. "
                "The cancellation takes effect on %(date)s."
            )
            % effective,
        ]
    if option.code == OptionCode.CANCEL_AFTER_REMAINING:
        return [
            _commitment(option),
            gettext(
                "If you receive the remaining %(remaining)s, you can cancel at no charge: "
                "the last one is planned for %(last)s and the cancellation takes effect on "
                "%(date)s."
            )
            % {
                "remaining": _deliveries(option.deliveries_to_ship),
                "last": day(option.last_delivery_on or option.effective_on),
                **effective,
            },
        ]
    if option.code == OptionCode.CANCEL_NOW_WITH_FEE:
        return [
            _commitment(option),
            gettext(
                "You can also cancel now by paying %(fee)s, tax included, for the part of the "
                "device discount not yet recovered. The cancellation takes effect on %(date)s."
            )
            % {"fee": yen(option.cost_yen), **effective},
        ]
    if option.kind == OptionKind.EXCEPTION and option.ground is not None:
        if option.cost_yen:
            offer = gettext(
                "On the ground of %(ground)s, you may ask for an exception: cancel now for "
                "%(fee)s, tax included, taking effect on %(date)s."
            ) % {
                "ground": _in_sentence(option.ground.display),
                "fee": yen(option.cost_yen),
                **effective,
            }
        else:
            offer = gettext(
                "On the ground of %(ground)s, you may ask for an exception: cancel now at no "
                "charge, taking effect on %(date)s."
            ) % {"ground": _in_sentence(option.ground.display), **effective}
        return [offer, _approval(option.approval_level)]
    return []


def explain(option: Option, language: str) -> str:
    """What the operator reads out for one option, in `language` ("ja" or "en")."""
    with translation.override(language):
        sentences = _sentences(option)
        shipped_late = option.facts.shipped_after_request
        if shipped_late:
            sentences.append(
                ngettext(
                    "%(n)d delivery sent after your first request is not charged.",
                    "%(n)d deliveries sent after your first request are not charged.",
                    shipped_late,
                )
                % {"n": shipped_late}
            )
        return " ".join(sentences)


def _basis_sentence(basis: FeeBasis) -> str:
    if basis.method == ChargeMethod.FIXED:
        text = gettext("The fee is the fixed cancellation fee of %(fixed)s, tax included.") % {
            "fixed": yen(basis.fixed_fee_yen)
        }
        if basis.fee_yen < basis.fixed_fee_yen:
            text += " " + gettext(
                "It is reduced to %(fee)s, the part of the device discount not yet recovered, "
                "because a fee is never more than that."
            ) % {"fee": yen(basis.fee_yen)}
        return text
    computed = basis.subsidy_yen * basis.remaining // max(1, basis.required)
    text = gettext(
        "The device was sold %(subsidy)s below its list price on condition of %(required)s."
    ) % {"subsidy": yen(basis.subsidy_yen), "required": _deliveries(basis.required)}
    text += " " + ngettext(
        "%(missing)d of them has not been made, so the fee is %(subsidy)s × %(missing)d ÷ "
        "%(total)d = %(computed)s, in whole yen rounded down, tax included.",
        "%(missing)d of them have not been made, so the fee is %(subsidy)s × %(missing)d ÷ "
        "%(total)d = %(computed)s, in whole yen rounded down, tax included.",
        basis.remaining,
    ) % {
        "subsidy": yen(basis.subsidy_yen),
        "missing": basis.remaining,
        "total": basis.required,
        "computed": yen(computed),
    }
    if basis.fee_yen < computed:
        text += " " + gettext(
            "It is reduced to %(fee)s, the part of the device discount not yet recovered, "
            "because a fee is never more than that."
        ) % {"fee": yen(basis.fee_yen)}
    return text


def explain_fee_basis(option: Option, language: str) -> str:
    """The basis of an option's fee, for a customer who asks how it was worked out."""
    with translation.override(language):
        if not option.cost_yen or option.basis is None:
            return gettext("This option has no fee.")
        text = _basis_sentence(option.basis)
        if option.kind == OptionKind.EXCEPTION and option.ground is not None:
            text += " " + gettext("The exception waives %(percent)d%% of it, leaving %(fee)s.") % {
                "percent": option.ground.fee_waived_percent,
                "fee": yen(option.cost_yen),
            }
        return text
