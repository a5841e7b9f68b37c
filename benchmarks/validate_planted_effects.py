"""Coverage of the planted synthetic effects by the outcome models' confidence intervals.

For each seed, generate a synthetic data package with ``compendium.ingest.synth.generate``,
fit the FUH-7 logistic model (exposure: case management and liaison officers) and
the 30-day readmission Poisson model (exposure: assertive community treatment),
and check whether each 95 % interval holds the planted value (log scale). With
correct models and standard errors, about 95 % of the intervals hold it; the
script fails (exit status 1) when either coverage falls below ``--min-coverage``.
``--method`` picks the standard errors and degrees of freedom (default: the
models' own, ``compendium.analysis.models.INFERENCE``), so that the alternatives compared
in the ``compendium.analysis.models`` docstring can be measured again.

Usage::

    python benchmarks/validate_planted_effects.py --seeds 50 --networks 40
    python benchmarks/validate_planted_effects.py --seeds 250 --networks 40 --method cr1
"""

from __future__ import annotations

import argparse
import sys
import time

import pandas as pd

from compendium.analysis import models
from compendium.ingest import synth


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=50, help="number of seeds (default 50)")
    parser.add_argument(
        "--first-seed", type=int, default=0, help="first seed; seeds run consecutively (default 0)"
    )
    parser.add_argument(
        "--networks", type=int, default=40, help="networks per package (default 40)"
    )
    parser.add_argument(
        "--level", type=float, default=0.95, help="confidence level of the intervals (default 0.95)"
    )
    parser.add_argument(
        "--method",
        choices=models.INFERENCE_METHODS,
        default=models.INFERENCE,
        help=f"standard errors and degrees of freedom (default {models.INFERENCE})",
    )
    parser.add_argument(
        "--min-coverage",
        type=float,
        default=0.90,
        help="fail when a coverage falls below this (default 0.90)",
    )
    args = parser.parse_args(argv)
    if args.seeds < 1:
        parser.error("--seeds must be at least 1")
    if args.networks < 2:
        parser.error("--networks must be at least 2 (standard errors are clustered by network)")
    if not 0 < args.level < 1:
        parser.error("--level must lie between 0 and 1")
    return args


def summarize(results: pd.DataFrame) -> pd.DataFrame:
    """Per effect: true value, mean estimate, spread, mean reported SE and coverage.

    ``se_ratio`` is the mean reported standard error over the standard deviation of
    the estimates across seeds: near 1 when the reported errors are honest, below 1
    when they are too small. ``mean_ci_width`` is the mean width of the intervals
    (log scale), the price paid for the coverage. ``coverage_mc_se`` is the Monte
    Carlo standard error of the coverage (binomial), which says how far a coverage
    can stray by chance alone.
    """
    grouped = results.groupby("effect", sort=False)
    out = grouped.agg(
        seeds=("estimate", "size"),
        true_value=("true_value", "first"),
        mean_estimate=("estimate", "mean"),
        sd_estimate=("estimate", "std"),
        mean_std_error=("std_error", "mean"),
        mean_ci_width=("ci_width", "mean"),
        coverage=("covered", "mean"),
    )
    out["bias"] = out["mean_estimate"] - out["true_value"]
    out["se_ratio"] = out["mean_std_error"] / out["sd_estimate"]
    out["coverage_mc_se"] = (out["coverage"] * (1 - out["coverage"]) / out["seeds"]) ** 0.5
    return out[
        [
            "seeds",
            "true_value",
            "mean_estimate",
            "bias",
            "sd_estimate",
            "mean_std_error",
            "se_ratio",
            "mean_ci_width",
            "coverage",
            "coverage_mc_se",
        ]
    ]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    short = {
        "fuh7_case_management_and_liaison_officers": "FUH-7",
        "readmission_rate_ratio_assertive_community_treatment": "ACT",
    }
    print(
        f"planted effects: {args.seeds} seeds x {args.networks} networks, "
        f"{args.level:.0%} intervals (log scale), inference {args.method}"
    )
    started = time.perf_counter()
    frames = []
    fitting = 0.0
    for seed in seeds:
        t0 = time.perf_counter()
        tables = synth.generate(seed, args.networks)
        t1 = time.perf_counter()
        result = synth.recover_planted_effects(tables, args.level, inference=args.method)
        fitting += time.perf_counter() - t1
        result.insert(0, "seed", seed)
        result["ci_width"] = result["ci_high"] - result["ci_low"]
        frames.append(result)
        cells = [
            f"{short.get(r.effect, r.effect)} {r.estimate:+.3f} "
            f"[{r.ci_low:+.3f}, {r.ci_high:+.3f}] {'in ' if r.covered else 'OUT'}"
            for r in result.itertuples()
        ]
        print(f"seed {seed:4d}  " + "  ".join(cells) + f"  {time.perf_counter() - t0:.2f}s")
    elapsed = time.perf_counter() - started

    summary = summarize(pd.concat(frames, ignore_index=True))
    summary.index = [short.get(e, e) for e in summary.index]
    print()
    with pd.option_context("display.width", 140, "display.float_format", "{:.3f}".format):
        print(summary.to_string())
    print(
        f"\n{elapsed:.1f}s in all, {elapsed / args.seeds:.2f}s per seed, of which "
        f"{fitting / args.seeds:.2f}s building the frames and fitting the two models"
    )

    low = summary[summary["coverage"] < args.min_coverage]
    for name, coverage in low["coverage"].items():
        print(f"FAIL: coverage of {name} is {coverage:.0%}, below {args.min_coverage:.0%}")
    if low.empty:
        print(f"OK: every coverage is at least {args.min_coverage:.0%}")
    return 1 if len(low) else 0


if __name__ == "__main__":
    sys.exit(main())
