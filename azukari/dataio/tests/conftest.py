"""Files written the way clients send them."""

import csv
from pathlib import Path

import pytest


def write_csv(path: Path, rows: list[list[str]], encoding: str) -> Path:
    with path.open("w", encoding=encoding, newline="") as f:
        csv.writer(f).writerows(rows)
    return path


@pytest.fixture
def client_file(tmp_path):
    """Writes rows to a CSV file in the encoding given, as a client's system would."""

    def make(rows: list[list[str]], *, encoding: str = "cp932", name: str = "file.csv") -> Path:
        return write_csv(tmp_path / name, rows, encoding)

    return make
