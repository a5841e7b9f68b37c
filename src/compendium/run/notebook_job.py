"""The job body of one notebook run: its template, its parameters and provenance, papermill.

Run by the warm-kernel runners (:mod:`compendium.run.kernels`) or, when no service listens,
by ``compendium run-notebook`` itself.
"""

from __future__ import annotations

from pathlib import Path

from .. import __version__
from ..data.plan import read_plan
from ..paths import CROSS_NETWORK, PER_NETWORK, PER_SETTING
from ..provenance import git_commit, git_commit_cached
from .client import submit


def template_and_parameters(paths, plan, kind: str, target: str) -> tuple[Path, dict]:
    """The notebook of one run and its papermill parameters (what it is about, what it reads).

    A setting's notebook reads its networks' slices joined into one package, and a
    cross-network notebook all of them: the same tables as the slices one by one,
    read at once instead of from hundreds of folders.

    The slices are named relative to the build folder, where the kernel runs: the
    parameters are shown in the book, and an absolute path would show the builder's
    folders (and make two clones build different pages).
    """

    def relative(folder: Path) -> list[str]:
        return [folder.relative_to(paths.build_dir).as_posix()]

    if kind == "network":
        params = {"network_id": target, "data_dirs": relative(paths.network_slice(target))}
        return paths.notebook(PER_NETWORK), params
    if kind == "setting":
        params = {"setting": target, "data_dirs": relative(paths.setting_slice(target))}
        return paths.notebook(PER_SETTING), params
    if CROSS_NETWORK[target]:
        return paths.notebook(target), {"data_dirs": relative(paths.all_networks_slice)}
    return paths.notebook(target), {}


def _label(path: Path, base: Path) -> str:
    """``path`` relative to ``base`` when it lies inside, else its file name."""
    try:
        return Path(path).resolve().relative_to(Path(base).resolve()).as_posix()
    except ValueError:
        return Path(path).name


def networks_read(plan, kind: str, target: str) -> list[str]:
    """The networks whose data one run reads."""
    if kind == "network":
        return [target]
    if kind == "setting":
        return list(plan.settings[target])
    return sorted(plan.networks) if CROSS_NETWORK[target] else []


def execute(paths, kind: str, target: str, out: Path, log: Path, kernel=None) -> str | None:
    """Execute one run of the plan; return its failure summary, or None when it succeeded.

    ``kernel`` is a started kernel to run on (the build's warm kernels); without
    one, papermill starts its own.
    """
    from .execute import NotebookFailure, run_notebook

    plan = read_plan(paths)
    template, params = template_and_parameters(paths, plan, kind, target)
    provenance = {
        "compendium_version": __version__,
        # the service's runners live for one build: one commit for all its notebooks
        "git_commit": (git_commit if kernel is None else git_commit_cached)(paths.root),
        "data_package_hash": plan.data_hash,
        "slice_hashes": {n: plan.slice_hashes[n] for n in networks_read(plan, kind, target)},
        "synthetic": plan.synthetic,
    }
    try:
        run_notebook(
            template,
            out,
            params,
            log,
            provenance,
            kernel_manager=kernel,
            cwd=paths.build_dir,
            labels=(_label(template, paths.root), _label(out, paths.build_dir)),
        )
    except NotebookFailure as failure:
        return failure.summary
    return None


def run(paths, kind: str, target: str, out: Path, log: Path) -> str | None:
    """Run one notebook: on the warm kernels of a running ``compendium build``, else here.

    Returns
    -------
    str or None
        The failure summary, or None when the notebook ran.

    Raises
    ------
    compendium.run.client.ServiceLost
        When the build's service stopped after it took the job (the build is stopping).
    """
    job = {
        "kind": kind,
        "target": target,
        "out": str(out),
        "log": str(log),
        "root": str(paths.root),
        "data": str(paths.data_dir),
        "build": str(paths.build_dir),
        "html": str(paths.html_dir),
    }
    outcome = submit(paths, job)
    return outcome["failure"] if outcome is not None else execute(paths, kind, target, out, log)
