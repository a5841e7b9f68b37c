"""Refuse to commit data-package rows that are not marked synthetic.

The ``compendium-no-real-data`` pre-commit hook runs this on the CSV files being
committed: ``python scripts/check_no_real_data.py FILE.csv ...`` (it reads no standard
input). A file with a ``synthetic`` column (every data-package table but the codebook)
passes only when every row holds true there (``true``, ``1`` or ``yes``, in any case, as
the data package reads booleans). A row holding anything else (false, empty, a typo) may
be real data, which belongs outside the repository (README, "Putting real data in place of
the synthetic data"). Files without a ``synthetic`` column pass.

Prints one line per offending row (or unreadable file) and exits 1 if there is any.
Standard library only, so that pre-commit can run it without installing anything.
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

COLUMN = "synthetic"
TRUE_WORDS = {"true", "1", "yes"}


def offending_rows(path: Path) -> list[str]:
    """One line for each row of ``path`` not marked synthetic (row 1 is the header)."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        return [f"{path}: not UTF-8, so whether its rows are synthetic cannot be checked"]
    except OSError as err:
        return [f"{path}: cannot be read ({err.strerror or err})"]
    rows = csv.reader(io.StringIO(text, newline=""))
    header = [cell.strip() for cell in next(rows, [])]
    if COLUMN not in header:
        return []
    col = header.index(COLUMN)
    lines = []
    for number, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue  # a blank line is no row
        value = row[col].strip() if col < len(row) else ""
        if value.lower() not in TRUE_WORDS:
            lines.append(
                f"{path}, row {number}, column {COLUMN}: {value!r} is not true; real data "
                "must stay outside the repository"
            )
    return lines


def main(argv: list[str]) -> int:
    problems = [line for name in argv for line in offending_rows(Path(name))]
    for line in problems:
        print(line)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
