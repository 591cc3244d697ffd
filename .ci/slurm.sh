#!/usr/bin/env bash
# A single-node Slurm on this machine, for the Slurm test (tests/experiments/slurm.test.ts):
#   bash .ci/slurm.sh up     install (Debian slurm-wlm + munge) when missing, configure, start
#   bash .ci/slurm.sh down   stop the daemons
# Configuration: one node named after `hostname` with all its CPUs, SlurmUser root, no cgroups
# (proctrack/linuxproc, task/none), state under /var/spool/slurm-ci. Idempotent.
set -uo pipefail
STATE=/var/spool/slurm-ci
CONF=/etc/slurm/slurm.conf

up() {
  if ! command -v slurmctld >/dev/null 2>&1 || ! command -v munged >/dev/null 2>&1; then
    echo "slurm: installing slurm-wlm and munge"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge) \
      >/dev/null 2>&1 || { echo "slurm: apt-get install slurm-wlm munge failed"; return 1; }
  fi
  if scontrol ping 2>/dev/null | grep -q "is UP"; then
    echo "slurm: already running"
    return 0
  fi
  # munge: a random key, the daemon as the munge user.
  mkdir -p /etc/munge /var/log/munge /run/munge /var/lib/munge
  if [ ! -s /etc/munge/munge.key ]; then
    dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none
  fi
  chown -R munge:munge /etc/munge /var/log/munge /run/munge /var/lib/munge
  chmod 0700 /etc/munge /var/log/munge /var/lib/munge
  chmod 0755 /run/munge
  chmod 0400 /etc/munge/munge.key
  if ! pgrep -x munged >/dev/null; then
    su -s /bin/sh munge -c /usr/sbin/munged || runuser -u munge -- /usr/sbin/munged \
      || { echo "slurm: munged did not start"; return 1; }
  fi
  local host cpus mem
  host=$(hostname)
  cpus=$(nproc)
  mem=$(($(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 1024))
  mkdir -p /etc/slurm "$STATE/ctld" "$STATE/d" /var/log/slurm
  cat >"$CONF" <<EOF
ClusterName=ci
SlurmctldHost=$host
SlurmUser=root
SlurmctldPort=6817
SlurmdPort=6818
AuthType=auth/munge
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/d
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
ReturnToService=2
MaxArraySize=10001
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
  /usr/sbin/slurmctld || { echo "slurm: slurmctld did not start"; return 1; }
  /usr/sbin/slurmd || { echo "slurm: slurmd did not start"; return 1; }
  for _ in $(seq 1 30); do
    if sinfo -h -o "%T" 2>/dev/null | grep -qE "^(idle|mixed|allocated)"; then
      echo "slurm: up (node $host, $cpus CPUs)"
      return 0
    fi
    sleep 1
  done
  echo "slurm: the node did not become idle: $(sinfo 2>&1 | tail -1)"
  return 1
}

down() {
  scontrol shutdown >/dev/null 2>&1 || true
  for _ in $(seq 1 10); do
    pgrep -x slurmctld >/dev/null || pgrep -x slurmd >/dev/null || break
    sleep 1
  done
  pkill -x slurmd 2>/dev/null || true
  pkill -x slurmctld 2>/dev/null || true
  echo "slurm: down"
}

case "${1:-}" in
up) up ;;
down) down ;;
*)
  echo "usage: bash .ci/slurm.sh up|down"
  exit 2
  ;;
esac
