"""DATABASE_URL: one host as dj-database-url reads it, or a libpq host list for a cluster."""

from azukari.config.settings import _parse_database_url


def test_a_host_list_reaches_libpq_with_its_options():
    db = _parse_database_url(
        "postgres://azukari:secret@db-sapporo:5433,db-osaka,[::1]:5434/azukari"
        "?target_session_attrs=read-write&connect_timeout=2"
    )

    assert db["HOST"] == "db-sapporo,db-osaka,::1"
    assert db["PORT"] == "5433,5432,5434"
    assert (db["NAME"], db["USER"], db["PASSWORD"]) == ("azukari", "azukari", "secret")
    assert db["OPTIONS"] == {"target_session_attrs": "read-write", "connect_timeout": 2}


def test_one_host_is_read_as_before_and_kept_connections_are_health_checked(monkeypatch):
    monkeypatch.setenv("AZUKARI_DB_CONN_MAX_AGE", "60")

    db = _parse_database_url("postgres://azukari@127.0.0.1:5432/azukari")

    assert (db["HOST"], db["PORT"], db["NAME"]) == ("127.0.0.1", 5432, "azukari")
    assert db["CONN_MAX_AGE"] == 60
    assert db["CONN_HEALTH_CHECKS"] is True
