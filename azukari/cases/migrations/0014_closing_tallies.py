"""Tallies of resolved azukari for the board's time to close, kept in step by triggers.

A case counts when it was parked at least once and has a resolution time: its row is keyed by
the Japan-time day of `resolved_at` and the board's keys (client, site, owning team, azukari
reason); it adds 1 to `n`, its time to close (resolved_at − opened_at, in microseconds) to
`micros`, and 1 to the column of its duration bucket. An insert adds, a delete takes away, an
update of a column the tally reads takes the old row away and adds the new one, only when one
of them counts (a case being worked has no resolution time, so opening and parking a case
never touch this table). Adding is an upsert; taking away is a plain UPDATE, as in 0005.

Buckets, on the duration in tenths of an hour m (the board shows hours with one decimal):
m itself below 32; then for j = 1…10, 16·j + m div 2^j while m < 32·2^j (16 buckets per
doubling, each at most 1/16 of its lower edge wide); 192 for anything longer (3,276.8 h and
more). A migration must not import the application; a test compares this with the reader's
bucket edges and the constants in azukari.cases.models.

The tallies are filled from the existing cases with one INSERT … SELECT … GROUP BY after the
triggers exist.
"""

from django.db import migrations, models

from azukari.core.migration_ops import RunSQLFor

UNIT_MICROS = 360 * 1_000_000
SUB = 16
DOUBLINGS = 10
BUCKETS = SUB * (DOUBLINGS + 2) + 1  # 193: 0…191 and the last one
LAST = BUCKETS - 1
KEY = "resolved_day, client_id, site_id, team_id, azukari_reason"
HISTOGRAM = [f"h{i}" for i in range(BUCKETS)]
COLUMNS = f"{KEY}, n, micros, {', '.join(HISTOGRAM)}"
ADD = f"ON CONFLICT ({KEY}) DO UPDATE SET " + ", ".join(
    f"{c} = cases_closingtally.{c} + excluded.{c}" for c in ["n", "micros", *HISTOGRAM]
)
WATCHED = "client_id, site_id, owner_team_id, azukari_reason, parked_at, opened_at, resolved_at"
COUNTS = "{r}.parked_at IS NOT NULL AND {r}.resolved_at IS NOT NULL"


def bucket_of(micros: str, greatest: str) -> str:
    """SQL for the bucket of a duration in microseconds (negative ones in the first)."""
    m = f"({greatest}({micros}, 0) / {UNIT_MICROS})"
    arms = [f"WHEN {m} < {2 * SUB} THEN {m}"]
    for j in range(1, DOUBLINGS + 1):
        arms.append(f"WHEN {m} < {2 * SUB << j} THEN {SUB * j} + {m} / {1 << j}")
    return f"CASE {' '.join(arms)} ELSE {LAST} END"


def histogram_of(bucket: str) -> str:
    return ", ".join(f"({bucket} = {i})" for i in range(BUCKETS))


def _fill(*, day: str, micros: str, greatest: str) -> str:
    """One statement: each counted case's duration computed once, bucketed once, counted per
    key and bucket, then spread over the bucket columns (a few rows per key and day)."""
    spread = ", ".join(f"sum(CASE WHEN b = {i} THEN k ELSE 0 END)" for i in range(BUCKETS))
    return (
        f"WITH u AS MATERIALIZED (SELECT {day} AS day, c.client_id, c.site_id, "
        f"coalesce(c.owner_team_id, 0) AS team_id, c.azukari_reason, {micros} AS us "
        f"FROM cases_case c WHERE {COUNTS.format(r='c')}), "
        f"g AS MATERIALIZED (SELECT day, client_id, site_id, team_id, azukari_reason, "
        f"{bucket_of('us', greatest)} AS b, count(*) AS k, sum(us) AS total FROM u "
        f"GROUP BY 1, 2, 3, 4, 5, 6) "
        f"INSERT INTO cases_closingtally ({COLUMNS}) "
        f"SELECT day, client_id, site_id, team_id, azukari_reason, sum(k), sum(total), {spread} "
        f"FROM g GROUP BY 1, 2, 3, 4, 5"
    )


# ---------------------------------------------------------------- SQLite

SQLITE_DAY = "date({r}.resolved_at, '+9 hours')"


def _sqlite_micros(r: str) -> str:
    """UTC text 'YYYY-MM-DD HH:MM:SS[.ffffff]': the whole seconds through strftime (given
    them alone, since it rounds a fraction to milliseconds), then the microseconds after the
    point (none written when they are zero)."""

    def fraction(t: str) -> str:
        return f"CAST(substr({t} || '.000000', 21, 6) AS INTEGER)"

    return (
        f"((strftime('%s', substr({r}.resolved_at, 1, 19)) "
        f"- strftime('%s', substr({r}.opened_at, 1, 19))) * 1000000 "
        f"+ {fraction(f'{r}.resolved_at')} - {fraction(f'{r}.opened_at')})"
    )


def _sqlite_key(r: str) -> str:
    return (
        f"date({r}.resolved_at, '+9 hours'), {r}.client_id, {r}.site_id, "
        f"coalesce({r}.owner_team_id, 0), {r}.azukari_reason"
    )


def _sqlite_add(r: str) -> str:
    return (
        f"INSERT INTO cases_closingtally ({COLUMNS}) "
        f"SELECT {_sqlite_key(r)}, 1, x.us, {histogram_of('x.b')} "
        f"FROM (SELECT {_sqlite_micros(r)} AS us, {bucket_of(_sqlite_micros(r), 'max')} AS b) x "
        f"WHERE {COUNTS.format(r=r)} {ADD}; "
    )


def _sqlite_take(r: str) -> str:
    sets = ", ".join(f"h{i} = h{i} - (x.b = {i})" for i in range(BUCKETS))
    return (
        f"UPDATE cases_closingtally SET n = n - 1, micros = micros - x.us, {sets} "
        f"FROM (SELECT {_sqlite_micros(r)} AS us, {bucket_of(_sqlite_micros(r), 'max')} AS b) x "
        f"WHERE {COUNTS.format(r=r)} AND resolved_day = date({r}.resolved_at, '+9 hours') "
        f"AND client_id = {r}.client_id AND site_id = {r}.site_id "
        f"AND team_id = coalesce({r}.owner_team_id, 0) AND azukari_reason = {r}.azukari_reason; "
    )


def _changed(columns: str) -> str:
    return " OR ".join(f"old.{c} IS NOT new.{c}" for c in columns.split(", "))


SQLITE_FORWARD = [
    "CREATE TRIGGER cases_case_closing_insert AFTER INSERT ON cases_case "
    f"WHEN {COUNTS.format(r='new')} BEGIN {_sqlite_add('new')}END",
    "CREATE TRIGGER cases_case_closing_delete AFTER DELETE ON cases_case "
    f"WHEN {COUNTS.format(r='old')} BEGIN {_sqlite_take('old')}END",
    f"CREATE TRIGGER cases_case_closing_update AFTER UPDATE OF {WATCHED} ON cases_case "
    f"WHEN ({COUNTS.format(r='old')} OR {COUNTS.format(r='new')}) AND ({_changed(WATCHED)}) "
    f"BEGIN {_sqlite_take('old')}{_sqlite_add('new')}END",
    _fill(day=SQLITE_DAY.format(r="c"), micros=_sqlite_micros("c"), greatest="max"),
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS cases_case_closing_update",
    "DROP TRIGGER IF EXISTS cases_case_closing_delete",
    "DROP TRIGGER IF EXISTS cases_case_closing_insert",
]

# ---------------------------------------------------------------- PostgreSQL

PG_DAY = "to_char({r}.resolved_at AT TIME ZONE 'Asia/Tokyo', 'YYYY-MM-DD')"
PG_MICROS = "(extract(epoch FROM {r}.resolved_at - {r}.opened_at) * 1000000)::bigint"
PG_KEY = (
    f"{PG_DAY}, {{r}}.client_id, {{r}}.site_id, coalesce({{r}}.owner_team_id, 0), "
    "{r}.azukari_reason"
)
POSTGRES_FORWARD = [
    f"""
CREATE FUNCTION cases_closing_tally_add(c cases_case, sign integer) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO cases_closingtally ({COLUMNS})
    SELECT {PG_KEY.format(r="c")}, sign, sign * x.us,
           {", ".join(f"sign * (x.b = {i})::integer" for i in range(BUCKETS))}
    FROM (SELECT {PG_MICROS.format(r="c")} AS us) y,
         LATERAL (SELECT y.us, {bucket_of("y.us", "greatest")} AS b) x
    {ADD}
$$""",
    f"""
CREATE FUNCTION cases_case_closing() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    was boolean := TG_OP <> 'INSERT' AND OLD.parked_at IS NOT NULL
        AND OLD.resolved_at IS NOT NULL;
    is_now boolean := TG_OP <> 'DELETE' AND NEW.parked_at IS NOT NULL
        AND NEW.resolved_at IS NOT NULL;
BEGIN
    IF was AND is_now AND ({PG_KEY.format(r="NEW")}) < ({PG_KEY.format(r="OLD")}) THEN
        PERFORM cases_closing_tally_add(NEW, 1);
        PERFORM cases_closing_tally_add(OLD, -1);
    ELSE
        IF was THEN PERFORM cases_closing_tally_add(OLD, -1); END IF;
        IF is_now THEN PERFORM cases_closing_tally_add(NEW, 1); END IF;
    END IF;
    RETURN NULL;
END
$$""",
    "CREATE TRIGGER cases_case_closing_insert AFTER INSERT ON cases_case FOR EACH ROW "
    f"WHEN ({COUNTS.format(r='NEW')}) EXECUTE FUNCTION cases_case_closing()",
    "CREATE TRIGGER cases_case_closing_delete AFTER DELETE ON cases_case FOR EACH ROW "
    f"WHEN ({COUNTS.format(r='OLD')}) EXECUTE FUNCTION cases_case_closing()",
    f"CREATE TRIGGER cases_case_closing_update AFTER UPDATE OF {WATCHED} ON cases_case "
    f"FOR EACH ROW WHEN (({COUNTS.format(r='OLD')} OR {COUNTS.format(r='NEW')}) AND ("
    + " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in WATCHED.split(", "))
    + ")) EXECUTE FUNCTION cases_case_closing()",
    _fill(day=PG_DAY.format(r="c"), micros=PG_MICROS.format(r="c"), greatest="greatest"),
]
POSTGRES_BACKWARD = [
    "DROP TRIGGER IF EXISTS cases_case_closing_update ON cases_case",
    "DROP TRIGGER IF EXISTS cases_case_closing_delete ON cases_case",
    "DROP TRIGGER IF EXISTS cases_case_closing_insert ON cases_case",
    "DROP FUNCTION IF EXISTS cases_case_closing()",
    "DROP FUNCTION IF EXISTS cases_closing_tally_add(cases_case, integer)",
]


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0013_case_due_client_index"),
    ]

    operations = [
        migrations.CreateModel(
            name="ClosingTally",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "resolved_day",
                    models.CharField(max_length=10, verbose_name="resolved on (Japan time)"),
                ),
                ("client_id", models.IntegerField(verbose_name="client")),
                ("site_id", models.IntegerField(verbose_name="site")),
                ("team_id", models.IntegerField(verbose_name="owning team")),
                (
                    "azukari_reason",
                    models.CharField(blank=True, max_length=16, verbose_name="azukari reason"),
                ),
                ("n", models.IntegerField(default=0, verbose_name="cases")),
                (
                    "micros",
                    models.BigIntegerField(default=0, verbose_name="times to close, summed (µs)"),
                ),
                *[(c, models.IntegerField(default=0)) for c in HISTOGRAM],
            ],
            options={
                "verbose_name": "closing tally",
                "verbose_name_plural": "closing tallies",
                "constraints": [
                    models.UniqueConstraint(
                        fields=(
                            "resolved_day",
                            "client_id",
                            "site_id",
                            "team_id",
                            "azukari_reason",
                        ),
                        name="closing_tally_key",
                    )
                ],
            },
        ),
        RunSQLFor("sqlite", SQLITE_FORWARD, SQLITE_BACKWARD),
        RunSQLFor("postgresql", POSTGRES_FORWARD, POSTGRES_BACKWARD),
    ]
