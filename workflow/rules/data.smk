# Data: validation, per-network slices, and the project kernel.
#
# Validation and slicing run here, while Snakemake reads the workflow, rather than as jobs:
# Snakemake plans all jobs before running any and cannot notice that a regenerated file came
# out identical (it has no "restat"), so a slicing job would make every notebook stale
# whenever any network changed. `prepare` rewrites a slice only when its content changes, so
# an edit to one network's rows reaches only the runs that read that network.
import json
import os
import sys

from compendium.build.deps import book_files, notebook_run_files
from compendium.build.plan import prepare
from compendium.data.plan import read_plan
from compendium.data.slices import package_files, slice_files

# `compendium build` has just validated and sliced the data; plain `snakemake` has not.
# A cluster job re-reads this file on its node (twice with SLURM): the main process has
# prepared by then, and preparing again in every job would re-validate the whole package.
if config.get("prepared") or not workflow.is_main_process:
    PLAN = read_plan(PATHS)  # reading a plan imports no pandas: the workflow starts fast
else:
    from compendium.data.problems import DataPackageError

    try:
        PLAN = prepare(PATHS)
    except DataPackageError as err:
        # One line per problem, and nothing written: the build stops here.
        sys.stderr.write(str(err) + "\n")
        raise SystemExit(1)



def package_code(notebook):
    """The package files a run of ``notebook`` imports, transitively, and the code that runs it.

    Computed from the code's own imports (compendium.build.deps), so an edit re-runs exactly
    the notebooks that reach it. Touched-but-unchanged files re-run nothing: Snakemake
    compares their checksums.
    """
    return [str(p) for p in notebook_run_files(notebook, PATHS.package_source)]


def kernel_is_registered():
    """The venv's kernel spec starts this venv's interpreter (``python`` or ``python3``)."""
    spec = Path(sys.prefix) / "share" / "jupyter" / "kernels" / "compendium" / "kernel.json"
    try:
        python = Path(json.loads(spec.read_text())["argv"][0])
        # the same binary in the same bin folder: another venv's python resolves alike
        return os.path.samefile(python, sys.executable) and os.path.samefile(
            python.parent, Path(sys.executable).parent
        )
    except (OSError, ValueError, KeyError, IndexError):
        return False


# What the sentinel says: the venv, not the interpreter's name (`python` or `python3`, after
# who started the build); every notebook reads the sentinel, and new content re-runs them all.
VENV = sys.prefix


# The venv may have been rebuilt since the sentinel was written (checked by the main process
# only: a job must not delete another job's input).
if workflow.is_main_process and PATHS.kernel_sentinel.exists() and not kernel_is_registered():
    PATHS.kernel_sentinel.unlink()

# Registering takes a second; as a cluster job it would wait in the queue first.
localrules:
    register_kernel,


rule register_kernel:
    """Register the project kernel inside this virtual environment (never user-wide)."""
    output:
        PATHS.kernel_sentinel,
    shell:
        '"{PYTHON}" -m ipykernel install --sys-prefix --name compendium '
        '--display-name "Python (compendium)" > /dev/null && echo "{VENV}" > "{output}"'
