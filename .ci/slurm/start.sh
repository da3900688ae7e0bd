#!/usr/bin/env bash
# Starts a one-node Slurm cluster on this machine for the tests: munged,
# slurmctld and slurmd run directly (no systemd), no accounting database.
# Writes /etc/slurm/slurm.conf from what `slurmd -C` sees (CPUs, memory).
# Idempotent: an already answering cluster is left as it is. Stop it with stop.sh.
set -euo pipefail

if scontrol ping 2>/dev/null | grep -q "is UP"; then
  echo "slurm: already running"
  exit 0
fi

# munge: the key comes with Debian's package; its run folder is not created without systemd.
install -d -o munge -g munge -m 0755 /run/munge
install -d -o munge -g munge -m 0700 /var/lib/munge /var/log/munge
if ! pgrep -x munged >/dev/null; then
  # root runs munged here: the package user owns the key, so start it as that user.
  runuser -u munge -- munged
fi

node=$(slurmd -C | head -1) # NodeName=<host> CPUs=… RealMemory=…
host=$(hostname -s)
install -d /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
cat >/etc/slurm/slurm.conf <<CONF
# Written by .ci/slurm/start.sh: a one-node test cluster.
ClusterName=ci
SlurmctldHost=${host}
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
# No cgroups (a container has none to give): plain process tracking, no task binding.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
# Each CPU is a schedulable unit, so two 1-CPU array tasks run side by side.
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
ReturnToService=2
KillWait=10
MinJobAge=300
JobRequeue=1
${node} State=UNKNOWN
PartitionName=debug Nodes=${host} Default=YES MaxTime=INFINITE State=UP
CONF

slurmctld -c -i 2>/dev/null || slurmctld -c
slurmd
for _ in $(seq 1 60); do
  if sinfo -h -o "%T" 2>/dev/null | grep -qE "^(idle|mixed|allocated)"; then
    echo "slurm: up ($(sinfo -h -o '%N %c CPUs %m MB'))"
    exit 0
  fi
  sleep 0.5
done
echo "slurm: the node did not come up; see /var/log/slurm/" >&2
tail -5 /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log >&2 || true
exit 1
