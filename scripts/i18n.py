"""Message catalogs: extract, compile with Babel, and check that what is committed is in step.

python scripts/i18n.py update    # re-extract strings (needs GNU gettext) and compile
python scripts/i18n.py compile   # .po -> .mo with Babel (no gettext needed)
python scripts/i18n.py check     # fail if a .mo differs from its .po or ja is incomplete
python scripts/i18n.py check --sources   # also fail if the code has strings not in the .po
"""

import argparse
import io
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "azukari"
LOCALE = PACKAGE / "locale"
LANGUAGES = ["ja", "en"]
DOMAINS = ["django"]


def _po(lang: str, domain: str) -> Path:
    return LOCALE / lang / "LC_MESSAGES" / f"{domain}.po"


def _load(path: Path):
    with path.open("rb") as fh:
        return read_po(fh, locale=path.parent.parent.name)


def _mo_bytes(catalog) -> bytes:
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    return buffer.getvalue()


def compile_all() -> None:
    for lang in LANGUAGES:
        for domain in DOMAINS:
            po = _po(lang, domain)
            po.with_suffix(".mo").write_bytes(_mo_bytes(_load(po)))
            print(f"compiled {po.relative_to(ROOT)}")


def extract() -> None:
    """Runs Django's makemessages over the package (it writes the .po files in place)."""
    if not shutil.which("xgettext"):
        sys.exit("GNU gettext is needed to extract strings (apt-get install gettext).")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "azukari.config.settings"}
    args = [
        sys.executable,
        "-m",
        "django",
        "makemessages",
        "--no-obsolete",
        "--no-location",
        "--ignore=*/tests/*",
        "--ignore=testing/*",
        *[f"-l{lang}" for lang in LANGUAGES],
    ]
    subprocess.run(args, cwd=PACKAGE, env=env, check=True, capture_output=True)


def check(sources: bool) -> int:
    problems: list[str] = []
    for lang in LANGUAGES:
        for domain in DOMAINS:
            po = _po(lang, domain)
            catalog = _load(po)
            mo = po.with_suffix(".mo")
            if not mo.exists() or mo.read_bytes() != _mo_bytes(catalog):
                problems.append(
                    f"{mo.relative_to(ROOT)} is not compiled from its .po "
                    "(run: python scripts/i18n.py compile)"
                )
            if lang == "ja":
                for message in catalog:
                    if not message.id:
                        continue
                    strings = (
                        message.string
                        if isinstance(message.string, tuple | list)
                        else [message.string]
                    )
                    if message.fuzzy or not all(strings):
                        problems.append(f"ja: untranslated or fuzzy: {message.id!r}")
    if sources:
        committed = {m.id for m in _load(_po("ja", "django")) if m.id}
        with tempfile.TemporaryDirectory() as tmp:
            backup = Path(tmp) / "locale"
            shutil.copytree(LOCALE, backup)
            try:
                extract()
                fresh = {m.id for m in _load(_po("ja", "django")) if m.id}
            finally:
                shutil.rmtree(LOCALE)
                shutil.copytree(backup, LOCALE)
        for missing in sorted(fresh - committed, key=str):
            problems.append(f"string in the code but not in the catalog: {missing!r}")
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} catalog problem(s); run: python scripts/i18n.py update")
        return 1
    print("message catalogs are complete and compiled")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("action", choices=["update", "compile", "check"])
    parser.add_argument("--sources", action="store_true")
    args = parser.parse_args()
    if args.action == "update":
        extract()
        compile_all()
        return 0
    if args.action == "compile":
        compile_all()
        return 0
    return check(args.sources)


if __name__ == "__main__":
    sys.exit(main())
