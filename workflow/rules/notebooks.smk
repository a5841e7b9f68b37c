# Notebooks: one papermill run per network, per setting, and the cross-network overview.
# Each run declares what it reads: the notebook template, the package source, the kernel,
# and the data slices of the networks it covers.
import json


def network_inputs(network_ids):
    return [str(p) for n in network_ids for p in slice_files(PATHS, n)]


def run_cmd(kind):
    # Papermill runs in its own process for every notebook (it is not thread-safe).
    return (
        f'"{PYTHON}" -m compendium run-notebook {kind} '
        f"--root {PATHS.root} --data {PATHS.data_dir} --build {PATHS.build_dir} "
        f"--html {PATHS.html_dir} "
    )


rule network_profile:
    input:
        notebook=PATHS.notebook("network"),
        package=PACKAGE_SOURCE,
        kernel=PATHS.kernel_sentinel,
        data=lambda w: network_inputs([w.network_id]),
    output:
        PATHS.executed_dir / "networks" / "{network_id}.ipynb",
    log:
        PATHS.logs_dir / "networks" / "{network_id}.log",
    shell:
        run_cmd("network") + "{wildcards.network_id} --out {output} --log {log}"


rule setting_comparison:
    input:
        notebook=PATHS.notebook("setting"),
        package=PACKAGE_SOURCE,
        kernel=PATHS.kernel_sentinel,
        data=lambda w: network_inputs(PLAN.settings[w.setting]),
    output:
        PATHS.executed_dir / "settings" / "{setting}.ipynb",
    log:
        PATHS.logs_dir / "settings" / "{setting}.log",
    shell:
        run_cmd("setting") + "{wildcards.setting} --out {output} --log {log}"


rule overview:
    input:
        notebook=PATHS.notebook("overview"),
        package=PACKAGE_SOURCE,
        kernel=PATHS.kernel_sentinel,
        data=network_inputs(sorted(PLAN.networks)),
    output:
        PATHS.executed_overview,
    log:
        PATHS.logs_dir / "overview.log",
    shell:
        run_cmd("overview") + "all --out {output} --log {log}"
