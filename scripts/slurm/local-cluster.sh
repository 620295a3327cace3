#!/usr/bin/env bash
# A single-node Slurm cluster on this machine, from Debian's packages
# (slurm-wlm 22.05, munge), to run the Slurm chain for real
# (scripts/slurm/cluster-test.sh, `make slurm-test`). Needs root: it
# installs the packages when missing, writes /etc/slurm/slurm.conf and
# cgroup.conf (the node: this host, its CPUs and memory; process tracking
# without systemd or cgroups, so it works inside containers), creates the
# munge key and starts munged, slurmctld and slurmd.
#
#   scripts/slurm/local-cluster.sh start    # install, configure, start, wait for the node
#   scripts/slurm/local-cluster.sh stop     # stop the daemons (configuration kept)
#
# An existing /etc/slurm/slurm.conf not written by this script is refused.
set -euo pipefail

CONF_DIR=/etc/slurm
STATE=/var/spool/slurmctld
SPOOL=/var/spool/slurmd
MARK="# written by rcic scripts/slurm/local-cluster.sh"

die() { echo "local-cluster: $*" >&2; exit 1; }

install_packages() {
    command -v slurmctld >/dev/null && command -v munged >/dev/null && return
    command -v apt-get >/dev/null || die "slurmctld is missing and there is no apt-get to install Debian's slurm-wlm and munge"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q slurm-wlm munge >/dev/null ||
        die "apt-get install slurm-wlm munge failed"
}

write_config() {
    local host cpus mem
    if [[ -f $CONF_DIR/slurm.conf ]] && ! grep -qF "$MARK" "$CONF_DIR/slurm.conf"; then
        die "$CONF_DIR/slurm.conf exists and was not written by this script; not touching it"
    fi
    host=$(hostname -s)
    cpus=$(nproc)
    # Slurm's RealMemory in MB, leaving 10% to the system.
    mem=$(awk '/^MemTotal:/ {printf "%d", $2 / 1024 * 0.9}' /proc/meminfo)
    mkdir -p "$CONF_DIR" "$STATE" "$SPOOL" /var/log/slurm
    cat >"$CONF_DIR/slurm.conf" <<CONF
$MARK
ClusterName=rcic-local
SlurmctldHost=$host
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=$STATE
SlurmdSpoolDir=$SPOOL
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
JobRequeue=1
MinJobAge=600
SchedulerType=sched/backfill
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
    cat >"$CONF_DIR/cgroup.conf" <<CONF
$MARK
CgroupPlugin=autodetect
IgnoreSystemd=yes
CONF
}

start_munge() {
    mkdir -p /etc/munge /run/munge /var/lib/munge /var/log/munge
    if [[ ! -s /etc/munge/munge.key ]]; then
        dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
    fi
    chown -R munge:munge /etc/munge /run/munge /var/lib/munge /var/log/munge 2>/dev/null || true
    chmod 400 /etc/munge/munge.key
    pgrep -x munged >/dev/null || runuser -u munge -- munged 2>/dev/null || munged --force
}

start() {
    [[ $(id -u) -eq 0 ]] || die "needs root (packages, /etc/slurm, the daemons)"
    install_packages
    write_config
    start_munge
    pgrep -x slurmctld >/dev/null || slurmctld
    pgrep -x slurmd >/dev/null || slurmd
    for _ in $(seq 60); do
        if sinfo -h -o '%t' 2>/dev/null | grep -qE '^(idle|mix|alloc)'; then
            echo "local-cluster: node $(hostname -s) up ($(nproc) CPUs)"
            return
        fi
        sleep 1
    done
    die "the node did not come up in 60 s; see /var/log/slurm/slurmctld.log and slurmd.log"
}

stop() {
    pkill -x slurmd || true
    pkill -x slurmctld || true
    echo "local-cluster: stopped"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
*) die "usage: $0 start|stop" ;;
esac
