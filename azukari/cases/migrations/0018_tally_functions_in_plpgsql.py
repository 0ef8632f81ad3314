"""The tallies' row functions on PostgreSQL in PL/pgSQL instead of SQL.

A SQL-language function called from a trigger is planned again at every call; PL/pgSQL keeps
its statements' plans for the session. The closing tally's function also works out the
duration and its bucket once, into variables: written as one statement, the bucket expression
was copied into each of the 193 histogram columns, which made the statement cost 5 to 7 ms to
plan and, as a generic plan, be compiled by JIT at every run (about 50 ms per resolved case in
all). The statements are otherwise those of migrations 0005 and 0014.
"""

import importlib

from django.db import migrations

from azukari.core.migration_ops import RunSQLFor

BACKLOG = importlib.import_module("azukari.cases.migrations.0005_backlog_tallies")
CLOSING = importlib.import_module("azukari.cases.migrations.0014_closing_tallies")
SIMPLE = [sql for sql in BACKLOG.POSTGRES_FORWARD if "LANGUAGE sql AS $$" in sql]
CLOSING_SQL = next(sql for sql in CLOSING.POSTGRES_FORWARD if "LANGUAGE sql AS $$" in sql)


def _plpgsql(sql: str) -> str:
    head, body = sql.split("LANGUAGE sql AS $$", 1)
    body = body.rstrip().removesuffix("$$")
    head = head.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)
    return f"{head}LANGUAGE plpgsql AS $$\nBEGIN\n{body.rstrip()};\nEND\n$$"


HISTOGRAM = ", ".join(f"sign * (b = {i})::integer" for i in range(CLOSING.BUCKETS))
CLOSING_ADD = f"""
CREATE OR REPLACE FUNCTION cases_closing_tally_add(c cases_case, sign integer) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    us bigint := {CLOSING.PG_MICROS.format(r="c")};
    b integer := {CLOSING.bucket_of("us", "greatest")};
BEGIN
    INSERT INTO cases_closingtally ({CLOSING.COLUMNS})
    VALUES ({CLOSING.PG_KEY.format(r="c")}, sign, sign * us, {HISTOGRAM})
    {CLOSING.ADD};
END
$$"""

FORWARD = [*(_plpgsql(sql) for sql in SIMPLE), CLOSING_ADD]
BACKWARD = [
    sql.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)
    for sql in (*SIMPLE, CLOSING_SQL)
]


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0017_clock_tally_covering_index"),
    ]

    operations = [
        RunSQLFor("postgresql", FORWARD, BACKWARD),
    ]
