# Notebooks: one papermill run per network, one per setting, one per cross-network notebook.
# Each run declares what it reads: the notebook template, the package source, the kernel,
# and the data slices of the networks it covers.
from compendium.orchestrate import NOTEBOOK_MEMORY_MB
from compendium.paths import CROSS_NETWORK, PER_NETWORK, PER_SETTING


def network_inputs(network_ids):
    return [str(p) for n in network_ids for p in slice_files(PATHS, n)]


def joined_inputs(folder):
    # the joined slices a setting's or the cross-network notebooks read (see plan.combine_slices)
    return [str(p) for p in package_files(folder)]


def notebook_mb(data_files):
    # What a run may hold in memory: its kernel, and the tables it reads (about a dozen times
    # their size in CSV). A local build runs notebooks together only while their sum stays
    # under a budget (orchestrate.NOTEBOOK_MEMORY_MB): two notebooks that each hold every
    # network of a big package never run at once; small ones always do.
    size = sum(os.path.getsize(f) for f in data_files if os.path.exists(f))
    return min(int(250 + 12 * size / 1e6), NOTEBOOK_MEMORY_MB)  # a bigger one runs alone


def run_cmd(kind, target):
    # Papermill runs in its own process for every notebook (it is not thread-safe).
    return (
        f'"{PYTHON}" -m compendium run-notebook {kind} {target} '
        f'--root "{PATHS.root}" --data "{PATHS.data_dir}" --build "{PATHS.build_dir}" '
        f'--html "{PATHS.html_dir}" --out "{{output}}" --log "{{log}}"'
    )


rule network_profile:
    input:
        notebook=PATHS.notebook(PER_NETWORK),
        package=PACKAGE_SOURCE,
        kernel=PATHS.kernel_sentinel,
        data=lambda w: network_inputs([w.network_id]),
    resources:
        notebook_mb=lambda w: notebook_mb(network_inputs([w.network_id])),
    output:
        PATHS.executed_dir / "networks" / "{network_id}.ipynb",
    log:
        PATHS.logs_dir / "networks" / "{network_id}.log",
    shell:
        run_cmd("network", "{wildcards.network_id}")


rule setting_comparison:
    input:
        notebook=PATHS.notebook(PER_SETTING),
        package=PACKAGE_SOURCE,
        kernel=PATHS.kernel_sentinel,
        data=lambda w: joined_inputs(PATHS.setting_slice(w.setting)),
    resources:
        notebook_mb=lambda w: notebook_mb(joined_inputs(PATHS.setting_slice(w.setting))),
    output:
        PATHS.executed_dir / "settings" / "{setting}.ipynb",
    log:
        PATHS.logs_dir / "settings" / "{setting}.log",
    shell:
        run_cmd("setting", "{wildcards.setting}")


rule cross_network:
    input:
        notebook=lambda w: PATHS.notebook(w.name),
        package=PACKAGE_SOURCE,
        kernel=PATHS.kernel_sentinel,
        data=lambda w: joined_inputs(PATHS.all_networks_slice) if CROSS_NETWORK[w.name] else [],
    resources:
        notebook_mb=lambda w: notebook_mb(
            joined_inputs(PATHS.all_networks_slice) if CROSS_NETWORK[w.name] else []
        ),
    output:
        PATHS.executed_dir / "{name}.ipynb",
    log:
        PATHS.logs_dir / "{name}.log",
    shell:
        run_cmd("cross", "{wildcards.name}")
