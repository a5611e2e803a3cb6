"""Fail when the Swedish catalogue has untranslated or fuzzy entries, or a stale .mo file.

Runs without gettext installed: polib reads both the .po and the compiled .mo.
"""

from __future__ import annotations

import sys
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent
CATALOGUES = sorted((ROOT / "narvaro" / "locale").glob("*/LC_MESSAGES/django.po"))


def main() -> int:
    if not CATALOGUES:
        print("no translation catalogues found under narvaro/locale", file=sys.stderr)
        return 1
    failed = False
    for po_path in CATALOGUES:
        po = polib.pofile(str(po_path))
        rel = po_path.relative_to(ROOT)
        untranslated = po.untranslated_entries()
        fuzzy = po.fuzzy_entries()
        for entry in untranslated[:20]:
            print(
                f"{rel}: untranslated: {entry.msgid!r} ({entry.occurrences[:1]})", file=sys.stderr
            )
        for entry in fuzzy[:20]:
            print(f"{rel}: fuzzy: {entry.msgid!r}", file=sys.stderr)
        mo_path = po_path.with_suffix(".mo")
        if not mo_path.exists():
            print(f"{rel}: no compiled .mo file; run `make messages`", file=sys.stderr)
            failed = True
        else:
            mo = polib.mofile(str(mo_path))
            compiled = {(e.msgctxt, e.msgid): e.msgstr or e.msgstr_plural.get(0, "") for e in mo}
            stale = [
                e.msgid
                for e in po.translated_entries()
                if compiled.get((e.msgctxt, e.msgid)) != (e.msgstr or e.msgstr_plural.get(0, ""))
            ]
            for msgid in stale[:20]:
                print(
                    f"{rel}: .mo is out of date for {msgid!r}; run `make messages`", file=sys.stderr
                )
            failed |= bool(stale)
        failed |= bool(untranslated or fuzzy)
        counts = f"{len(po.translated_entries())} translated, {len(untranslated)} untranslated"
        print(f"{rel}: {counts}, {len(fuzzy)} fuzzy")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
