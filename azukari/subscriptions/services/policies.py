"""Writes to cancellation policies: validated versions and loading a policy file.

A version that a request has used is frozen; changing the rules means adding a version, and a
new version may never take effect on or before a recorded first-request date (that would change
the rules in force for a request already made).
"""

import datetime as dt
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext_lazy as _

from azukari.core.errors import DomainError
from azukari.org.models import Client, User
from azukari.subscriptions.models import (
    CancellationRequest,
    ExceptionGround,
    Plan,
    Policy,
    PolicyVersion,
)
from azukari.subscriptions.policy import GroundRule, PolicyRules, policy_problems


class PolicyInvalid(DomainError):
    """A policy that contradicts itself; `problems` lists every (field, message)."""

    code = "policy_invalid"

    def __init__(self, problems: list[tuple[str, str]]):
        super().__init__(" ".join(m for _, m in problems), field=problems[0][0])
        self.problems = problems


VERSION_FIELDS = (
    "min_deliveries",
    "device_list_price_yen",
    "device_price_paid_yen",
    "charge_method",
    "fixed_fee_yen",
    "notice_days",
    "decision_limit_days",
)


@dataclass(frozen=True)
class VersionSpec:
    """A policy version as given by a person or a file, before it is saved."""

    effective_from: dt.date
    min_deliveries: int
    device_list_price_yen: int = 0
    device_price_paid_yen: int = 0
    charge_method: str = "pro_rata"
    fixed_fee_yen: int = 0
    notice_days: int = 0
    decision_limit_days: int = 10
    grounds: tuple[GroundRule, ...] = ()
    note: str = ""

    def rules(self, number: int = 0) -> PolicyRules:
        return PolicyRules(
            number=number,
            effective_from=self.effective_from,
            min_deliveries=self.min_deliveries,
            device_list_price_yen=self.device_list_price_yen,
            device_price_paid_yen=self.device_price_paid_yen,
            charge_method=self.charge_method,
            fixed_fee_yen=self.fixed_fee_yen,
            notice_days=self.notice_days,
            grounds=self.grounds,
        )

    def problems(self) -> list[tuple[str, str]]:
        return policy_problems(self.rules(), decision_limit_days=self.decision_limit_days)


def version_spec_of(version: PolicyVersion) -> VersionSpec:
    return VersionSpec(
        effective_from=version.effective_from,
        grounds=tuple(sorted((g.rule() for g in version.grounds.all()), key=lambda g: g.code)),
        note=version.note,
        **{f: getattr(version, f) for f in VERSION_FIELDS},
    )


def version_is_used(version: PolicyVersion) -> bool:
    return version.requests.exists() or version.decisions.exists()


def version_start_problem(policy: Policy, effective_from: dt.date) -> str | None:
    """Why a new version of `policy` cannot start on `effective_from`, if it cannot."""
    if policy.versions.filter(effective_from=effective_from).exists():
        return str(
            _("A version of this policy already starts on %(date)s.")
            % {"date": effective_from.isoformat()}
        )
    if CancellationRequest.objects.filter(
        policy_version__policy=policy, requested_on__gte=effective_from
    ).exists():
        return str(
            _(
                "A cancellation request first made on or after %(date)s is already governed by "
                "this policy; a new version must start after the latest such request."
            )
            % {"date": effective_from.isoformat()}
        )
    return None


def _write_grounds(version: PolicyVersion, grounds: tuple[GroundRule, ...]) -> None:
    ExceptionGround.objects.bulk_create(
        ExceptionGround(
            client_id=version.client_id,
            version=version,
            code=g.code,
            label=g.label,
            approval_level=g.approval_level,
            fee_waived_percent=g.fee_waived_percent,
        )
        for g in grounds
    )


@transaction.atomic
def policy_version_create(
    *, policy: Policy, spec: VersionSpec, actor: User | None = None
) -> PolicyVersion:
    """Adds a version of a policy, refused whole if it contradicts itself."""
    problems = spec.problems()
    if problems:
        raise PolicyInvalid(problems)
    policy = Policy.objects.select_for_update().get(pk=policy.pk)
    problem = version_start_problem(policy, spec.effective_from)
    if problem:
        raise DomainError(problem, field="effective_from")
    number = (policy.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = PolicyVersion.objects.create(
        client_id=policy.client_id,
        policy=policy,
        number=number,
        effective_from=spec.effective_from,
        note=spec.note,
        created_by=actor,
        **{f: getattr(spec, f) for f in VERSION_FIELDS},
    )
    _write_grounds(version, spec.grounds)
    return version


@transaction.atomic
def policy_version_replace(
    *, version: PolicyVersion, spec: VersionSpec, actor: User | None = None
) -> PolicyVersion:
    """Corrects a version nobody has used yet; a used version is frozen."""
    problems = spec.problems()
    if problems:
        raise PolicyInvalid(problems)
    version = PolicyVersion.objects.select_for_update().get(pk=version.pk)
    if version_is_used(version):
        raise DomainError(
            _(
                "Version %(number)d has been used for cancellation requests and cannot change; "
                "add a new version instead."
            )
            % {"number": version.number},
            field="effective_from",
        )
    if spec.effective_from != version.effective_from:
        raise DomainError(
            _("A version keeps its start date; add a new version instead."), field="effective_from"
        )
    for f in VERSION_FIELDS:
        setattr(version, f, getattr(spec, f))
    version.note = spec.note
    version.save(update_fields=[*VERSION_FIELDS, "note"])
    version.grounds.all().delete()
    _write_grounds(version, spec.grounds)
    return version


# ---------------------------------------------------------------- loading from a file


@dataclass
class LoadResult:
    policy: Policy
    created: list[int] = field(default_factory=list)
    replaced: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)


def _field_error(where: str, message) -> DomainError:
    return DomainError(f"{where}: {message}", field=where)


def _as_int(data: Mapping[str, Any], key: str, where: str, default: int | None = None) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _field_error(f"{where}.{key}", _("A whole number is required."))
    return value


def _as_date(value: Any, where: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise _field_error(where, _("A date (YYYY-MM-DD) is required.")) from exc


def spec_from_mapping(data: Mapping[str, Any], where: str) -> VersionSpec:
    grounds = []
    for i, g in enumerate(data.get("grounds", []) or []):
        gw = f"{where}.grounds[{i}]"
        if not isinstance(g, Mapping) or "code" not in g:
            raise _field_error(gw, _("A ground needs a code."))
        grounds.append(
            GroundRule(
                code=str(g["code"]),
                approval_level=str(g.get("approval", g.get("approval_level", ""))),
                fee_waived_percent=_as_int(g, "fee_waived_percent", gw, 100),
                label=str(g.get("label", "")),
            )
        )
    if "effective_from" not in data:
        raise _field_error(f"{where}.effective_from", _("This field is required."))
    return VersionSpec(
        effective_from=_as_date(data["effective_from"], f"{where}.effective_from"),
        min_deliveries=_as_int(data, "min_deliveries", where),
        device_list_price_yen=_as_int(data, "device_list_price_yen", where, 0),
        device_price_paid_yen=_as_int(data, "device_price_paid_yen", where, 0),
        charge_method=str(data.get("charge_method", "pro_rata")),
        fixed_fee_yen=_as_int(data, "fixed_fee_yen", where, 0),
        notice_days=_as_int(data, "notice_days", where, 0),
        decision_limit_days=_as_int(data, "decision_limit_days", where, 10),
        grounds=tuple(sorted(grounds, key=lambda g: g.code)),
        note=str(data.get("note", "")),
    )


@transaction.atomic
def policy_load(
    *, client: Client, data: Mapping[str, Any], actor: User | None = None
) -> LoadResult:
    """Creates or updates one policy and its versions from parsed file data; all or nothing.

    Versions are matched by start date: identical ones are left alone, unused ones corrected,
    used ones refused (add a version instead), new ones added.
    """
    head = data.get("policy")
    if not isinstance(head, Mapping) or not head.get("code"):
        raise _field_error("policy.code", _("This field is required."))
    plan = None
    if head.get("plan"):
        plan = Plan.objects.filter(client=client, code=head["plan"]).first()
        if plan is None:
            raise _field_error("policy.plan", _("No plan has this code."))
    policy, _created = Policy.objects.get_or_create(
        client=client,
        code=str(head["code"]),
        defaults={"name": str(head.get("name") or head["code"]), "plan": plan},
    )
    if policy.plan_id != (plan.pk if plan else None):
        raise _field_error("policy.plan", _("This policy already applies to another plan."))
    if head.get("name") and head["name"] != policy.name:
        policy.name = str(head["name"])
        policy.save(update_fields=["name"])
    versions = data.get("versions")
    if not isinstance(versions, list) or not versions:
        raise _field_error("versions", _("List at least one version."))
    specs = [(i, spec_from_mapping(v, f"versions[{i}]")) for i, v in enumerate(versions)]
    result = LoadResult(policy=policy)
    for i, spec in sorted(specs, key=lambda item: item[1].effective_from):
        problems = spec.problems()
        if problems:
            raise PolicyInvalid([(f"versions[{i}].{f}", m) for f, m in problems])
        existing = policy.versions.filter(effective_from=spec.effective_from).first()
        if existing is None:
            result.created.append(policy_version_create(policy=policy, spec=spec, actor=actor).pk)
        elif version_spec_of(existing) == spec:
            result.unchanged.append(existing.pk)
        else:
            policy_version_replace(version=existing, spec=spec, actor=actor)
            result.replaced.append(existing.pk)
    return result


def policy_file_read(path: Path) -> dict[str, Any]:
    """Parses a TOML policy file (YAML too, when PyYAML is installed)."""
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError as exc:  # optional dependency
            raise DomainError(_("YAML needs PyYAML; use a TOML file."), field="file") from exc
        with path.open(encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
    else:
        try:
            with path.open("rb") as fh:
                data = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise DomainError(str(exc), field="file") from exc
    if not isinstance(data, dict):
        raise DomainError(_("The file holds no policy."), field="file")
    return data
