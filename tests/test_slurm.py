"""The SLURM profile, run for real: a single-node SLURM cluster on this machine runs the workflow.

``tests/slurm/start_cluster.sh`` installs SLURM and munge from Debian's registry when they are
missing, and starts munged, slurmctld and slurmd (it needs root). The workflow then runs with
``--profile profiles/slurm``: every papermill run and the book are SLURM batch jobs. The test is
skipped, with the script's reason, only when the cluster cannot be brought up; the daemons it
started are stopped afterwards, whatever happens.
"""

from __future__ import annotations

import html
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from compendium.build.orchestrate import snakemake_command
from compendium.build.plan import prepare
from compendium.paths import CROSS_NETWORK, ProjectPaths

from .conftest import REPO

pytestmark = pytest.mark.slow

SCRIPTS = REPO / "tests" / "slurm"
PROFILE = REPO / "profiles" / "slurm"
_SUBMITTED = re.compile(r"^Job \d+ has been submitted with SLURM jobid (\d+) \(log: (.+)\)\.$")


@pytest.fixture(scope="module")
def cluster():
    """The cluster's environment (SLURM_CONF, ...); stops the daemons this fixture started."""
    proc = subprocess.run(
        ["bash", str(SCRIPTS / "start_cluster.sh")],
        capture_output=True,
        text=True,
        timeout=900,  # may install the Debian packages first
    )
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines() or ["(no message)"]
        errors = [line for line in lines if "ERROR:" in line] or lines[-1:]
        pytest.skip(f"no SLURM cluster (start_cluster.sh exit {proc.returncode}): {errors[-1]}")
    env = dict(
        line[len("export ") :].split("=", 1)
        for line in proc.stdout.splitlines()
        if line.startswith("export ")
    )
    env = {k: (shlex.split(v) or [""])[0] for k, v in env.items()}
    try:
        yield env
    finally:
        started = env.get("COMPENDIUM_SLURM_STARTED", "").split()
        if started:
            subprocess.run(
                ["bash", str(SCRIPTS / "stop_cluster.sh"), *started],
                env={**os.environ, **env},
                timeout=120,
            )


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> ProjectPaths:
    """A copy of the project (notebooks, workflow, narrative) with a two-network package."""
    from compendium.ingest.synth import write

    root = tmp_path_factory.mktemp("slurm-project")
    for folder in ("notebooks", "workflow", "book"):
        shutil.copytree(REPO / folder, root / folder, ignore=shutil.ignore_patterns("_build", ".*"))
    write(root / "data", seed=3, n_networks=2)
    return ProjectPaths(
        root=root,
        data_dir=root / "data",
        build_dir=root / "build",
        html_dir=root / "book" / "_build" / "html",
    )


@pytest.fixture(scope="module")
def slurm_build(cluster, project):
    """Run the whole workflow through the SLURM executor; return its output and SLURM job ids."""
    plan = prepare(project)  # as `compendium build` does before it starts Snakemake
    env = {**os.environ, **cluster, "COMPENDIUM_ROOT": str(project.root)}
    # The profile's memory requests, cut to what this machine's node offers (SLURM rejects a
    # job that asks for more than any node has); these replace the profile's whole lists.
    cpus, mem = map(
        int,
        subprocess.run(
            ["sinfo", "-h", "-p", cluster["COMPENDIUM_SLURM_PARTITION"], "-o", "%c %m"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()[:2],
    )
    cmd = snakemake_command(
        project,
        cores=2,
        extra=[
            "--profile",
            str(PROFILE),
            "--default-resources",
            "runtime=30",
            f"mem_mb={min(4000, mem // cpus)}",
            "cpus_per_task=1",
            "--set-resources",
            "book:runtime=240",
            f"book:mem_mb={min(16000, mem)}",
            # keep every job's SLURM log, to check where each job ran
            "--slurm-keep-successful-logs",
            # first status check soon after a submission: the test's jobs take seconds
            "--slurm-init-seconds-before-status-checks",
            "2",
        ],
    )
    env.pop("COMPENDIUM_DATA", None)
    t0 = time.monotonic()
    proc = subprocess.run(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=1200
    )
    elapsed = time.monotonic() - t0
    print(f"workflow through SLURM: {elapsed:.0f}s", file=sys.stderr)
    assert proc.returncode == 0, proc.stdout[-6000:]
    submitted = {}
    for line in proc.stdout.splitlines():
        if m := _SUBMITTED.match(line.strip()):
            submitted[m.group(1)] = Path(m.group(2))
    run_id = re.search(r"^SLURM run ID: (\S+)$", proc.stdout, re.M)
    assert run_id, proc.stdout[-3000:]
    return plan, proc.stdout, submitted, run_id.group(1)


def test_every_notebook_and_the_book_ran_as_a_slurm_job(cluster, project, slurm_build):
    plan, output, submitted, run_id = slurm_build
    # The plugin files each job's log under its rule (and wildcard values).
    ran = {
        tuple(p.relative_to(project.build_dir / ".snakemake" / "slurm_logs").parent.parts)
        for p in submitted.values()
    }
    expected = (
        {("rule_network_profile", n) for n in plan.networks}
        | {("rule_setting_comparison", s) for s in plan.settings}
        | {("rule_cross_network", name) for name in CROSS_NETWORK}
        | {("rule_book",)}
    )
    assert expected <= ran, output[-3000:]

    # slurmctld's own record of finished jobs: each one under this run's name, completed on
    # this machine's node.
    records = {}
    jobcomp = Path(cluster["COMPENDIUM_SLURM_DIR"]) / "log" / "jobcomp.log"
    for line in jobcomp.read_text().splitlines():
        fields = dict(f.split("=", 1) for f in line.split() if "=" in f)
        records[fields["JobId"]] = fields
    node = subprocess.run(["hostname", "-s"], capture_output=True, text=True).stdout.strip()
    for job_id, log in submitted.items():
        rec = records[job_id]
        assert rec["Name"] == run_id
        assert rec["JobState"] == "COMPLETED", rec
        assert rec["NodeList"] == node
        assert rec["Partition"] == cluster["COMPENDIUM_SLURM_PARTITION"]
        # the job's own log: Snakemake ran that rule inside the allocation
        text = log.read_text()
        rule = log.relative_to(project.build_dir / ".snakemake" / "slurm_logs").parts[0][5:]
        assert f"rule {rule}:" in text and "--executor slurm-jobstep" in text


def test_the_book_was_built_on_the_cluster(project, slurm_build):
    plan = slurm_build[0]
    html_dir = project.html_dir
    assert (html_dir / "index.html").is_file()
    for network_id in plan.networks:
        page = html_dir / "networks" / f"{network_id}.html"
        assert page.is_file()
        assert plan.names[network_id] in html.unescape(page.read_text(encoding="utf-8"))
    for setting in plan.settings:
        assert (html_dir / "settings" / f"{setting}.html").is_file()
    assert (html_dir / "overview.html").is_file()
