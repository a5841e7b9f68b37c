# Notebooks: one papermill run per network, one per setting, one per cross-network notebook.
# Each run declares what it reads: the notebook template, the package code it imports (and the
# code that runs it), the kernel, and the data slices of the networks it covers.
from compendium.build.orchestrate import NOTEBOOK_MEMORY_MB
from compendium.paths import CROSS_NETWORK, PER_NETWORK, PER_SETTING


def network_data(w):
    return [str(p) for p in slice_files(PATHS, w.network_id)]


def setting_data(w):
    # the setting's networks' slices joined into one package (see data.slices.combine_slices)
    return [str(p) for p in package_files(PATHS.setting_slice(w.setting))]


def cross_network_data(w):
    # every network's slice joined; the policy timeline reads none of them
    if not CROSS_NETWORK[w.name]:
        return []
    return [str(p) for p in package_files(PATHS.all_networks_slice)]


def notebook_mb(data):
    # What a run may hold in memory: its kernel, and the tables it reads (about a dozen times
    # their size in CSV). A local build runs notebooks together only while their sum stays
    # under a budget (build.orchestrate.NOTEBOOK_MEMORY_MB): two notebooks that each hold every
    # network of a big package never run at once; small ones always do.
    def estimate(w):
        size = sum(os.path.getsize(f) for f in data(w) if os.path.exists(f))
        return min(int(250 + 12 * size / 1e6), NOTEBOOK_MEMORY_MB)  # a bigger one runs alone

    return estimate


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
        package=package_code(PATHS.notebook(PER_NETWORK)),
        kernel=PATHS.kernel_sentinel,
        data=network_data,
    resources:
        notebook_mb=notebook_mb(network_data),
    output:
        PATHS.executed_dir / "networks" / "{network_id}.ipynb",
    log:
        PATHS.logs_dir / "networks" / "{network_id}.log",
    shell:
        run_cmd("network", "{wildcards.network_id}")


rule setting_comparison:
    input:
        notebook=PATHS.notebook(PER_SETTING),
        package=package_code(PATHS.notebook(PER_SETTING)),
        kernel=PATHS.kernel_sentinel,
        data=setting_data,
    resources:
        notebook_mb=notebook_mb(setting_data),
    output:
        PATHS.executed_dir / "settings" / "{setting}.ipynb",
    log:
        PATHS.logs_dir / "settings" / "{setting}.log",
    shell:
        run_cmd("setting", "{wildcards.setting}")


rule cross_network:
    input:
        notebook=lambda w: PATHS.notebook(w.name),
        package=lambda w: package_code(PATHS.notebook(w.name)),
        kernel=PATHS.kernel_sentinel,
        data=cross_network_data,
    resources:
        notebook_mb=notebook_mb(cross_network_data),
    output:
        PATHS.executed_dir / "{name}.ipynb",
    log:
        PATHS.logs_dir / "{name}.log",
    shell:
        run_cmd("cross", "{wildcards.name}")
