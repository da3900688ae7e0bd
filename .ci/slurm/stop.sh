#!/usr/bin/env bash
# Stops what start.sh started: slurmd, slurmctld, munged (by their pid files).
set -uo pipefail
stop() { # pid file, name
  if [ -f "$1" ]; then
    local pid
    pid=$(cat "$1")
    kill "$pid" 2>/dev/null && echo "slurm: stopped $2 ($pid)"
    for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    rm -f "$1"
  fi
}
stop /run/slurmd.pid slurmd
stop /run/slurmctld.pid slurmctld
stop /run/munge/munged.pid munged
exit 0
