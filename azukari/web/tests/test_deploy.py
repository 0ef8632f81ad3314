"""Production settings pass Django's deployment checklist, and refuse to start without secrets."""

import os
import subprocess
import sys


def _env(tmp_path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "AZUKARI_"))}
    env.update(
        AZUKARI_DATA_DIR=str(tmp_path),
        AZUKARI_PRODUCTION="true",
        AZUKARI_ALLOWED_HOSTS="azukari.example.jp",
        **extra,
    )
    return env


def _check(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "azukari.cli", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = _check(
        _env(
            tmp_path,
            AZUKARI_SECRET_KEY="k" * 20 + "Qz7#pL2@vN9$wX4!mB6^tR1&yH3*uJ8%",
            AZUKARI_AUDIT_KEY="audit-key-from-the-vault",
        )
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_real_secrets(tmp_path):
    result = _check(_env(tmp_path))
    assert result.returncode != 0
    assert "AZUKARI_SECRET_KEY" in result.stderr
