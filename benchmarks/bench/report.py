"""The benchmark's table: printed, as Markdown, and in ``results.json``.

A row is ``(scenario, seconds, ratio, goal, pass)``: ``ratio`` None where none applies,
``pass`` None where nothing is judged (information, or a quick run's reduced sizes).
"""

from __future__ import annotations

import json
from pathlib import Path


def fmt_s(x):
    """A number of seconds (or a ratio) with two decimals; "-" for none."""
    return "-" if x is None else f"{x:.2f}"


def verdict(ok):
    """PASS, FAIL, or "-" where nothing is judged."""
    return "-" if ok is None else ("PASS" if ok else "FAIL")


def passed(table: list[tuple]) -> bool:
    """Whether no row's goal failed."""
    return all(ok in (True, None) for *_, ok in table)


def table_json(table: list[tuple]) -> list[dict]:
    """The rows as ``results.json`` holds them."""
    return [
        {"scenario": s, "median_seconds": m, "ratio": r, "goal": g, "pass": ok}
        for s, m, r, g, ok in table
    ]


def write_results(results: dict, out: Path) -> Path:
    """Write ``results.json`` into ``out`` (made if missing); return its path."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / "results.json"
    path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    return path


def print_table(table: list[tuple], info: dict, quick: bool) -> None:
    """Print the machine, with the load averages at start and end, and the table."""
    width = max(len(row[0]) for row in table) if table else 20
    print(
        f"\nmachine: {info['nproc']} cores, {info.get('memory_gb')} GB RAM, {info.get('cpu')}; "
        f"load average {info['load_average_start']} -> {info['load_average_end']}"
        f"{'; QUICK run (reduced sizes)' if quick else ''}"
    )
    print(f"{'scenario':<{width}}  {'median s':>9}  {'ratio':>7}  {'goal':<20}  result")
    for s, m, r, g, ok in table:
        print(f"{s:<{width}}  {fmt_s(m):>9}  {fmt_s(r):>7}  {g:<20}  {verdict(ok)}")


def markdown(results: dict) -> str:
    """The table of a results.json as Markdown, with the machine it ran on (for the README)."""
    m = results["machine"]
    lines = [
        f"Measured {results['started'][:10]} on {m['nproc']} cores ({m.get('cpu')}), "
        f"{m.get('memory_gb')} GB RAM, Python {m['python']}, {m['platform']}; load average "
        f"{m['load_average_start'][0]:.1f} at the start"
        f"{' (QUICK run: reduced sizes)' if results.get('quick') else ''}.",
        "",
        "| scenario | median s | ratio | goal | result |",
        "|---|---:|---:|---|---|",
    ]
    for row in results["table"]:
        lines.append(
            f"| {row['scenario'].strip()} | {fmt_s(row['median_seconds'])} | "
            f"{fmt_s(row['ratio'])} | {row['goal']} | {verdict(row['pass'])} |"
        )
    return "\n".join(lines) + "\n"
