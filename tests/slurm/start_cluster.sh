#!/usr/bin/env bash
# Start a single-node SLURM cluster on this machine, for testing the SLURM profile for real.
#
#   eval "$(tests/slurm/start_cluster.sh)"    # then sbatch / squeue / sinfo / snakemake --profile
#   tests/slurm/stop_cluster.sh               # stops what this script started
#
# Runs as root. Installs the Debian packages (slurmctld slurmd slurm-client munge) when they are
# missing, starts munged as the munge user, writes a minimal slurm.conf for one node sized like
# this machine (no accounting database, no cgroups), and starts slurmctld and slurmd. Idempotent:
# daemons already running for this cluster folder are left alone.
#
# Everything lives under $COMPENDIUM_SLURM_DIR (default: $TMPDIR/compendium-slurm): slurm.conf,
# state, spool, logs, pid files. Outside it: the munge key (/etc/munge, created if missing),
# munged's socket (/run/munge), and slurmd's link to its cached slurm.conf (/run/slurm/conf),
# which is how srun inside a job finds the cluster: Snakemake's job step drops SLURM_CONF.
# Ports: $COMPENDIUM_SLURM_PORT (default 6817) and the next one. On stdout it prints only shell
# assignments:
#   export SLURM_CONF=...             the configuration every SLURM client needs
#   export COMPENDIUM_SLURM_DIR=...   the cluster folder (logs in log/, finished jobs in log/jobcomp.log)
#   export COMPENDIUM_SLURM_PARTITION=...
#   export COMPENDIUM_SLURM_STARTED="..."   daemons started by this call (empty if all were up)
# Everything else goes to stderr. Exit status: 0 ready; 1 daemons would not start or the node
# never became idle; 2 not root; 3 packages missing and not installable.
set -euo pipefail

DIR=${COMPENDIUM_SLURM_DIR:-${TMPDIR:-/tmp}/compendium-slurm}
PARTITION=${COMPENDIUM_SLURM_PARTITION:-compendium}
CTLD_PORT=${COMPENDIUM_SLURM_PORT:-6817}
SLURMD_PORT=$((CTLD_PORT + 1))
PACKAGES=(slurmctld slurmd slurm-client munge)

say() { echo "start_cluster: $*" >&2; }
started=()
fail() {
    local code=$1
    shift
    say "ERROR: $*"
    # leave nothing half-started behind
    if [[ ${#started[@]} -gt 0 ]]; then
        COMPENDIUM_SLURM_DIR=$DIR bash "$(dirname "$0")/stop_cluster.sh" "${started[@]}" || true
    fi
    exit "$code"
}

[[ $(id -u) -eq 0 ]] || fail 2 "must run as root (starts munged, slurmctld and slurmd)"

# -- packages -------------------------------------------------------------------------------------
export PATH=$PATH:/usr/sbin:/sbin
missing() {
    local p
    for p in slurmctld slurmd sbatch squeue sinfo scontrol munged munge unmunge; do
        command -v "$p" > /dev/null 2>&1 || return 0
    done
    return 1
}
if missing; then
    command -v apt-get > /dev/null || fail 3 "SLURM is not installed and apt-get is not available"
    say "installing ${PACKAGES[*]} from Debian's registry"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -q --no-install-recommends "${PACKAGES[@]}" >&2; then
        # a fresh machine may have empty package lists
        apt-get update -q >&2 || fail 3 "apt-get update failed; cannot install ${PACKAGES[*]}"
        apt-get install -y -q --no-install-recommends "${PACKAGES[@]}" >&2 \
            || fail 3 "apt-get install ${PACKAGES[*]} failed"
    fi
    missing && fail 3 "still missing a SLURM or munge command after installing ${PACKAGES[*]}"
fi

mkdir -p "$DIR"/{etc,state,spool,log,run}
CONF=$DIR/etc/slurm.conf
HOST=$(hostname -s)
export SLURM_CONF=$CONF

# -- munge ----------------------------------------------------------------------------------------
munge_works() { munge -n 2> /dev/null | unmunge > /dev/null 2>&1; }
if ! munge_works; then
    if [[ ! -s /etc/munge/munge.key ]]; then
        say "creating a munge key"
        mkdir -p /etc/munge
        if command -v mungekey > /dev/null; then
            mungekey --create --keyfile=/etc/munge/munge.key --force
        else
            dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
        fi
    fi
    chown -R munge:munge /etc/munge
    chmod 700 /etc/munge
    chmod 400 /etc/munge/munge.key
    mkdir -p /run/munge /var/lib/munge /var/log/munge
    chown munge:munge /run/munge /var/lib/munge /var/log/munge
    chmod 755 /run/munge
    # a pid file or socket left by a munged that died would stop a new one from starting
    rm -f /run/munge/munged.pid /run/munge/munge.socket.2 /run/munge/munge.socket.2.lock
    say "starting munged"
    runuser -u munge -- munged --pid-file=/run/munge/munged.pid \
        || fail 1 "munged did not start (see /var/log/munge/munged.log)"
    for _ in $(seq 50); do munge_works && break; sleep 0.1; done
    munge_works || fail 1 "munged started but munge -n | unmunge fails (see /var/log/munge/munged.log)"
    cp /run/munge/munged.pid "$DIR/run/munged.pid"
    started+=(munged)
fi

# -- slurm.conf -----------------------------------------------------------------------------------
alive() { [[ -s $1 ]] && kill -0 "$(cat "$1")" 2> /dev/null; }
CPUS=$(nproc)
MEM_TOTAL=$(free -m | awk '/^Mem:/ {print $2}')
# leave room for the daemons and the Snakemake process itself
REAL_MEM=$((MEM_TOTAL * 9 / 10))
new_conf=$(
    cat << EOF
# Written by tests/slurm/start_cluster.sh: one node (this machine), one partition, no accounting.
ClusterName=compendium
SlurmctldHost=$HOST(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
# slurmd fetches this file from slurmctld and caches it where SLURM commands inside jobs look
# (/run/slurm/conf): the Snakemake job step drops SLURM_CONF before calling srun
SlurmctldParameters=enable_configless
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/run/slurmctld.pid
SlurmdPidFile=$DIR/run/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
# no cgroups (containers, CI machines): track job processes through /proc
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
# without accounting, a plain-text record of every finished job
JobCompType=jobcomp/filetxt
JobCompLoc=$DIR/log/jobcomp.log
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# a job that asks for no memory must not take the whole node
DefMemPerCPU=1024
# the SLURM executor reads job states with squeue: finished jobs must stay visible a while
MinJobAge=600
ReturnToService=2
# trust the sizes below even where the hardware reports more (containers)
SlurmdParameters=config_overrides
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$REAL_MEM State=UNKNOWN
PartitionName=$PARTITION Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF
)
if [[ ! -f $CONF ]] || [[ $(cat "$CONF") != "$new_conf" ]]; then
    if alive "$DIR/run/slurmctld.pid" || alive "$DIR/run/slurmd.pid"; then
        fail 1 "$CONF would change (machine resized?) while the cluster runs; run tests/slurm/stop_cluster.sh first"
    fi
    printf '%s\n' "$new_conf" > "$CONF"
fi

if [[ -e /etc/slurm/slurm.conf ]]; then
    say "warning: /etc/slurm/slurm.conf exists; srun inside jobs reads it instead of $CONF"
fi

# -- daemons --------------------------------------------------------------------------------------
logtail() {
    say "last lines of $1:"
    tail -n 15 "$1" >&2 2> /dev/null || true
}
ctld_failed() {
    logtail "$DIR/log/slurmctld.log"
    if grep -q "Address already in use" "$DIR/log/slurmctld.log" 2> /dev/null; then
        fail 1 "slurmctld cannot listen on port $CTLD_PORT: another SLURM runs here (stop it, or set COMPENDIUM_SLURM_PORT)"
    fi
    fail 1 "$1"
}
if ! alive "$DIR/run/slurmctld.pid"; then
    say "starting slurmctld ($CONF)"
    : > "$DIR/log/slurmctld.log"
    slurmctld -f "$CONF" -i || ctld_failed "slurmctld did not start"
    started+=(slurmctld)
fi
for _ in $(seq 50); do
    scontrol ping 2> /dev/null | grep -q "is UP" && break
    alive "$DIR/run/slurmctld.pid" || break
    sleep 0.2
done
if ! scontrol ping 2> /dev/null | grep -q "is UP"; then
    alive "$DIR/run/slurmctld.pid" || ctld_failed "slurmctld started, then exited"
    ctld_failed "slurmctld runs but does not answer (scontrol ping)"
fi
if ! alive "$DIR/run/slurmd.pid"; then
    say "starting slurmd (node $HOST: $CPUS CPUs, $REAL_MEM MB)"
    if ! slurmd --conf-server "127.0.0.1:$CTLD_PORT" || ! { sleep 1; alive "$DIR/run/slurmd.pid"; }; then
        logtail "$DIR/log/slurmd.log"
        fail 1 "slurmd did not start"
    fi
    started+=(slurmd)
fi

# The node registers within a few seconds; a node left DOWN by an earlier run is resumed.
state=""
for i in $(seq 60); do
    state=$(sinfo -h -n "$HOST" -p "$PARTITION" -o %T 2> /dev/null | head -n 1 || true)
    case $state in
        idle | mixed | allocated | completing) break ;;
        down* | drain* | fail*)
            ((i % 10 == 5)) && scontrol update NodeName="$HOST" State=RESUME 2> /dev/null || true
            ;;
    esac
    sleep 0.5
done
case $state in
    idle | mixed | allocated | completing) ;;
    *)
        logtail "$DIR/log/slurmd.log"
        scontrol show node "$HOST" >&2 2> /dev/null || true
        fail 1 "node $HOST is '${state:-unknown}', not idle, after 30 s"
        ;;
esac
say "cluster up: partition $PARTITION, node $HOST ($state); started: ${started[*]:-nothing (already running)}"

echo "export SLURM_CONF=$CONF"
echo "export COMPENDIUM_SLURM_DIR=$DIR"
echo "export COMPENDIUM_SLURM_PARTITION=$PARTITION"
echo "export COMPENDIUM_SLURM_STARTED=\"${started[*]:-}\""
