"""The iCal corpus (tests/data/ical_corpus): how many real calendar files import whole.

    .venv/bin/python bench/ical_corpus.py            # a table, one line a file, then the totals
    .venv/bin/python bench/ical_corpus.py --json bench/data/ical-corpus.json
    .venv/bin/python bench/ical_corpus.py --only khal   # files whose name contains "khal"

Each file is imported as the API imports a bulk upload (an EVENTS_ICAL job, submitted and
processed in process) into a partner of its own (Europe/Berlin), with the clock pinned, on a
fresh SQLite database in a temporary directory (removed at the end); then what was stored is
compared with what `recurring_ical_events` computes from the file over a one-year window
(tests/imports/corpus.py says exactly how). A file matches when both give the same multiset of
(start, end). The totals: the share of files that match, and, for the others, the reasons
grouped by the code of the row results (or of the refusal of the whole file) they came with.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

NOW = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)  # the tests' pinned moment
FIRST_PARTNER = 9_100_000


def run(only: str) -> list:
    from django.core.management import call_command

    from calendar_app import clock
    from calendar_app.models import Partner
    from tests.imports import corpus

    call_command("migrate", interactive=False, verbosity=0)
    outcomes = []
    with clock.pinned(NOW):
        for number, path in enumerate(corpus.files()):
            if only not in path.name:
                continue
            partner = Partner.objects.create(
                id=FIRST_PARTNER + number, name=path.name[:100], time_zone=corpus.ZONE,
                admin_secret=Partner.new_secret(), secret=Partner.new_secret(),
            )  # fmt: skip
            outcomes.append(corpus.compare(path, partner, NOW))
    return outcomes


def reasons(outcome) -> set[str]:
    """Why a file that does not match does not: its codes, or what the counts say."""
    if outcome.reference_error:
        return {"reference cannot read the file"}
    if outcome.job_code:
        return {outcome.job_code}
    found = {code for _, _, code, _ in outcome.refused}
    if outcome.extra:
        found.add("more stored than expected")
    if outcome.missing and not found:
        found.add("missing without an error row")
    return found or {"differs"}


def verdict(outcome) -> str:
    if outcome.reference_error:
        return "reference error"
    if outcome.matches:
        return "match"
    return "mismatch"


def print_table(outcomes: list) -> None:
    print(f"{'file':<72} {'verdict':<16} {'expected':>8} {'stored':>6}  job / reasons")
    for o in outcomes:
        expected, stored = sum(o.expected.values()), sum(o.stored.values())
        why = "" if o.matches else ", ".join(sorted(reasons(o)))
        print(f"{o.name:<72} {verdict(o):<16} {expected:>8} {stored:>6}  {o.job_status} {why}")


def totals(outcomes: list) -> dict:
    matching = sum(o.matches for o in outcomes)
    readable = sum(not o.reference_error for o in outcomes)
    grouped = Counter(reason for o in outcomes if not o.matches for reason in reasons(o))
    return {
        "files": len(outcomes),
        "matching": matching,
        "share_matching": round(matching / len(outcomes), 4) if outcomes else 0.0,
        # The figure: of the files the reference itself can read, the share that match.
        "reference_reads": readable,
        "share_of_readable": round(matching / readable, 4) if readable else 0.0,
        "job_statuses": dict(Counter(o.job_status for o in outcomes)),
        "reasons_by_files": dict(grouped.most_common()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", metavar="PATH", help="also write the per-file results and totals as JSON")
    parser.add_argument("--only", default="", help="only the files whose name contains this")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ical-corpus-") as scratch:
        os.environ["DATABASE_URL"] = f"sqlite:///{Path(scratch) / 'corpus.sqlite3'}"
        import _django  # noqa: F401  (sets up Django on the fresh file)

        outcomes = run(args.only)
        print_table(outcomes)
        summary = totals(outcomes)
        print(f"\n{summary['matching']} of {summary['files']} files match ({summary['share_matching']:.1%});")
        print(
            f"{summary['matching']} of the {summary['reference_reads']} the reference reads "
            f"({summary['share_of_readable']:.1%})"
        )
        print("job statuses:", summary["job_statuses"])
        print("reasons (files):")
        for reason, count in summary["reasons_by_files"].items():
            print(f"  {count:>4}  {reason}")
        if args.json:
            report = {"totals": summary, "files": [o.as_dict() for o in outcomes]}
            Path(args.json).write_text(json.dumps(report, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
