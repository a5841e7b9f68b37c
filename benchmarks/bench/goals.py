"""The goals the benchmarks are held to (from the performance issue)."""

GB = 10**9  # decimal gigabytes: the stricter reading of the goals' GB

GOALS = {
    "clean": 0.60,  # × naive
    "noop": 0.10,  # × clean
    "edit": 0.40,  # × clean
    "per_notebook": 1.3,  # s per network notebook, amortized, at 200 networks
    "build_memory": 2 * GB,
    "coding": 5.0,  # s
    "outcomes": 60.0,  # s
    "outcomes_memory": 4 * GB,
}
