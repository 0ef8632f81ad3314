"""Recomputes every client's chain and says where it was edited, cut, filled or shuffled."""

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from azukari.audit import chain
from azukari.audit.models import (
    AccessAction,
    AccessEvent,
    AuditCheckpoint,
    ChainHead,
    RetentionRun,
)
from azukari.audit.services import wording_digest
from azukari.floor.models import HarassmentCriterionVersion
from azukari.org.models import Client

# What a tombstone keeps besides its hashes: when and what kind of access it was.
ERASED_BLANK = {
    "actor_id": None,
    "customer_ref": None,
    "object_type": "",
    "object_ref": "",
    "fields": [],
    "purpose": "",
    "ip": None,
}

COLUMNS = [
    "id",
    "client_id",
    "seq",
    "at",
    "actor_id",
    "action",
    "customer_ref",
    "object_type",
    "object_ref",
    "fields",
    "purpose",
    "ip",
    "count",
    "content_hash",
    "prev_hash",
    "chain_hash",
    "erased_at",
    "erased_by_id",
    "row_mac",
]


class _Row:
    __slots__ = COLUMNS

    def __init__(self, values: tuple) -> None:
        for name, value in zip(COLUMNS, values, strict=True):
            setattr(self, name, value)


@dataclass(frozen=True)
class Problem:
    client: str
    seq: int | None
    event_id: int | None
    kind: str  # edited, deleted, inserted_or_reordered, forged_link, truncated, bad_tombstone…
    detail: str

    def __str__(self) -> str:
        where = f"seq {self.seq}" if self.seq is not None else "-"
        return f"[{self.client}] {where} (event {self.event_id or '-'}): {self.kind}: {self.detail}"


@dataclass
class ClientResult:
    client: str
    events: int = 0
    tombstones: int = 0
    pending: int = 0
    head_seq: int = 0
    head_hash: str = ""


@dataclass
class VerifyReport:
    results: list[ClientResult] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _rewritten_wordings(rows: list[_Row]) -> list[_Row]:
    """Criterion changes whose kept wording (floor's history) no longer has the digest the
    chain recorded: the history table is not chained itself, the chain vouches for it."""
    version_of = {}
    for row in rows:
        version = row.object_ref.rpartition("/")[2]
        version_of[row.id] = int(version) if version.isdigit() else None
    kept = HarassmentCriterionVersion.objects.in_bulk([v for v in version_of.values() if v])
    return [
        row
        for row in rows
        if (version := kept.get(version_of[row.id])) is None
        or wording_digest(version) != row.purpose.rpartition(">")[2]
    ]


def _verify_client(client: Client, report: VerifyReport) -> None:
    result = ClientResult(client=client.code)
    report.results.append(result)
    runs = {
        r.pk: r
        for r in RetentionRun.objects.filter(client=client).only("pk", "client_id", "audit_cutoff")
    }

    def problem(kind: str, row: _Row | None, detail: str, seq: int | None = None) -> None:
        report.problems.append(
            Problem(
                client=client.code,
                seq=seq if seq is not None else (row.seq if row else None),
                event_id=row.id if row else None,
                kind=kind,
                detail=detail,
            )
        )

    expected_seq = 1
    expected_prev = chain.genesis(client.pk)
    seal_hash = {}
    wordings: list[_Row] = []
    rows = (
        AccessEvent.objects.filter(client=client, seq__isnull=False)
        .order_by("seq", "id")
        .values_list(*COLUMNS)
    )
    for values in rows.iterator(chunk_size=2000):
        row = _Row(values)
        result.events += 1
        if row.seq < expected_seq:
            problem("inserted_or_reordered", row, _("a second event with this sequence number"))
            continue
        gap = row.seq > expected_seq
        if gap:
            problem(
                "deleted",
                row,
                _("events %(first)d–%(last)d are missing")
                % {"first": expected_seq, "last": row.seq - 1},
                seq=expected_seq,
            )
        if row.erased_at is not None:
            result.tombstones += 1
            run = runs.get(row.erased_by_id)
            blank = all(getattr(row, k) == v for k, v in ERASED_BLANK.items())
            if run is None or not blank or run.audit_cutoff is None or row.at >= run.audit_cutoff:
                problem("bad_tombstone", row, _("erased without a retention run that covers it"))
        elif chain.content_hash(row) != row.content_hash:
            problem("edited", row, _("the content no longer matches its hash"))
        elif row.action == AccessAction.CRITERION:
            wordings.append(row)
        if not gap and row.prev_hash != expected_prev:
            problem(
                "inserted_or_reordered",
                row,
                _("does not follow the event before it in the chain"),
            )
        if chain.link(client.pk, row.seq, row.prev_hash, row.content_hash) != row.chain_hash:
            problem("forged_link", row, _("the chain hash was not made with the audit key"))
        seal_hash[row.seq] = row.chain_hash
        expected_prev = row.chain_hash
        expected_seq = row.seq + 1
    for row in _rewritten_wordings(wordings):
        problem("wording_rewritten", row, _("the criterion wording it recorded was changed"))
    last_seq = expected_seq - 1
    head = ChainHead.objects.filter(client=client).first()
    result.head_seq = last_seq
    result.head_hash = expected_prev if last_seq else ""
    if head is not None and head.last_seq > last_seq:
        problem(
            "deleted",
            None,
            _("events %(first)d–%(last)d at the end of the chain are missing")
            % {"first": last_seq + 1, "last": head.last_seq},
            seq=last_seq + 1,
        )
    elif head is not None and head.last_seq and head.head_hash != seal_hash.get(head.last_seq):
        problem("forged_link", None, _("the chain head does not match the last event"), last_seq)
    previous_end = 0
    for cp in AuditCheckpoint.objects.filter(client=client).order_by("last_seq"):
        if cp.first_seq != previous_end + 1:
            problem("checkpoint", None, _("checkpoints are not contiguous"), cp.first_seq)
        elif cp.last_seq in seal_hash and seal_hash[cp.last_seq] != cp.head_hash:
            problem(
                "checkpoint",
                None,
                _("the checkpoint sealed a different chain than the one stored"),
                cp.last_seq,
            )
        previous_end = cp.last_seq
    # Unsealed rows: each must carry the audit service's signature and none may wait longer
    # than the sealer takes; a row with chain data of its own was not written by the product.
    too_old = timezone.now() - dt.timedelta(minutes=settings.AZUKARI_AUDIT_PENDING_MINUTES)
    unsealed = AccessEvent.objects.filter(client=client, seq__isnull=True)
    for values in unsealed.order_by("id").values_list(*COLUMNS).iterator(chunk_size=2000):
        row = _Row(values)
        result.pending += 1
        if row.chain_hash and not row.chain_hash.startswith("refused"):
            problem("inserted_or_reordered", row, _("forged chain data"))
        elif row.chain_hash or not chain.row_mac_ok(row):
            problem("not_written_by_audit", row, _("not signed by the audit service"))
        elif row.at < too_old:
            problem(
                "pending_too_long",
                row,
                _("still unsealed after %(minutes)d minutes")
                % {"minutes": settings.AZUKARI_AUDIT_PENDING_MINUTES},
            )


def audit_verify(*, client: Client | None = None) -> VerifyReport:
    report = VerifyReport()
    clients = [client] if client is not None else list(Client.objects.order_by("code"))
    for each in clients:
        _verify_client(each, report)
    return report
