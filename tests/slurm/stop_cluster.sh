#!/usr/bin/env bash
# Stop the single-node SLURM cluster that tests/slurm/start_cluster.sh started.
#
#   tests/slurm/stop_cluster.sh [DAEMON ...]
#
# With no argument, stops every daemon start_cluster.sh started for $COMPENDIUM_SLURM_DIR
# (default: $TMPDIR/compendium-slurm): slurmd, slurmctld, and munged if it was started there.
# With arguments (e.g. the $COMPENDIUM_SLURM_STARTED list), stops only those. Jobs still in the
# cluster are cancelled first. Only processes recorded in the cluster folder's pid files are
# signalled. The folder (configuration, logs, job records) is kept; remove it by hand.
set -uo pipefail

DIR=${COMPENDIUM_SLURM_DIR:-${TMPDIR:-/tmp}/compendium-slurm}
export PATH=$PATH:/usr/sbin:/sbin
export SLURM_CONF=$DIR/etc/slurm.conf

say() { echo "stop_cluster: $*" >&2; }

if [[ $# -gt 0 ]]; then
    wanted=" $* "
else
    wanted=" slurmd slurmctld munged "
fi

pid_of() {
    local f=$DIR/run/$1.pid
    [[ -s $f ]] && kill -0 "$(cat "$f")" 2> /dev/null && cat "$f"
}

stop() {
    local name=$1 pid
    [[ $wanted == *" $name "* ]] || return 0
    pid=$(pid_of "$name") || return 0
    say "stopping $name (pid $pid)"
    kill -TERM "$pid" 2> /dev/null
    for _ in $(seq 100); do
        kill -0 "$pid" 2> /dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2> /dev/null; then
        say "$name ignored SIGTERM for 10 s; killing it"
        kill -KILL "$pid" 2> /dev/null
    fi
    rm -f "$DIR/run/$name.pid"
}

# Jobs left running would outlive slurmd (their slurmstepd processes are not its children).
if [[ $wanted == *" slurmctld "* ]] && pid_of slurmctld > /dev/null && command -v scancel > /dev/null; then
    scancel --partition="${COMPENDIUM_SLURM_PARTITION:-compendium}" 2> /dev/null
    for _ in $(seq 30); do
        [[ -z $(squeue -h -p "${COMPENDIUM_SLURM_PARTITION:-compendium}" -t RUNNING,COMPLETING 2> /dev/null) ]] && break
        sleep 0.5
    done
fi
stop slurmd
stop slurmctld
stop munged
# slurmd's link to its cached configuration (for commands inside jobs) would outlive it
if [[ $wanted == *" slurmd "* && $(readlink /run/slurm/conf 2> /dev/null) == "$DIR"/* ]]; then
    rm -f /run/slurm/conf
fi
exit 0
