/**
 * Stand-ins for `sbatch`, `squeue`, `scontrol` and `scancel` on PATH, for the
 * submission logic on machines without a Slurm cluster: jobs are lines in a
 * state file, nothing ever runs, and every call is logged. `scontrol release`
 * kills its caller with SIGKILL when `FAKE_SLURM_KILL_ON_RELEASE` is set, which
 * is how a test stops a submission between `sbatch --hold` and the release;
 * `sbatch` refuses every job with the reason in `FAKE_SLURM_REFUSE` when set.
 * The real cluster is exercised by `sweep_slurm_test.ts`.
 */
import { joinPath } from "../src/io.ts";

const SBATCH = `#!/bin/bash
# sbatch --parsable [--hold] SCRIPT: a job id; an array gets one PENDING line per task.
state="$FAKE_SLURM_DIR"; echo "sbatch $*" >>"$state/calls"
if [ -n "\${FAKE_SLURM_REFUSE:-}" ]; then
  echo "sbatch: error: Batch job submission failed: $FAKE_SLURM_REFUSE" >&2; exit 1
fi
held=0; for a in "$@"; do [ "$a" = --hold ] && held=1; script="$a"; done
id=$(( $(cat "$state/next" 2>/dev/null || echo 100) + 1 )); echo "$id" >"$state/next"
why=$([ $held = 1 ] && echo JobHeldUser || echo None)
spec=$(sed -n 's/^#SBATCH --array=\\([0-9,-]*\\).*/\\1/p' "$script")
if [ -z "$spec" ]; then echo "$id|$id||PENDING|0:00|($why)" >>"$state/jobs"; else
  for part in \${spec//,/ }; do
    for t in $(seq \${part%-*} \${part#*-}); do echo "\${id}_$t|$id|$t|PENDING|0:00|($why)" >>"$state/jobs"; done
  done
fi
echo "$id"
`;

const SQUEUE = `#!/bin/bash
echo "squeue $*" >>"$FAKE_SLURM_DIR/calls"; cat "$FAKE_SLURM_DIR/jobs" 2>/dev/null; exit 0
`;

const SCONTROL = `#!/bin/bash
state="$FAKE_SLURM_DIR"; echo "scontrol $*" >>"$state/calls"
if [ "$1" = release ]; then
  [ -n "\${FAKE_SLURM_KILL_ON_RELEASE:-}" ] && { kill -9 $PPID; exit 0; }
  sed -i "/^$2[_|]/s/(JobHeldUser)/(None)/" "$state/jobs"
fi
exit 0
`;

const SCANCEL = `#!/bin/bash
state="$FAKE_SLURM_DIR"; echo "scancel $*" >>"$state/calls"
for id in "$@"; do sed -i "/^$id[_|]/d" "$state/jobs"; done
exit 0
`;

/** A fake Slurm: the environment that puts it first on PATH, and its call log and job list. */
export interface FakeSlurm {
  env: Record<string, string>;
  /** The commands called so far, one line each (`sbatch --parsable --hold /…/array-001.sbatch`). */
  calls(): Promise<string[]>;
  /** The jobs it holds, as squeue would list them. */
  jobs(): Promise<string[]>;
}

/** Installs the fake commands into `dir` (created). */
export async function fakeSlurm(dir: string): Promise<FakeSlurm> {
  const bin = joinPath(dir, "bin");
  await Deno.mkdir(bin, { recursive: true });
  for (const [name, text] of Object.entries({ sbatch: SBATCH, squeue: SQUEUE, scontrol: SCONTROL, scancel: SCANCEL })) {
    await Deno.writeTextFile(joinPath(bin, name), text, { mode: 0o755 });
  }
  const lines = async (file: string): Promise<string[]> =>
    (await Deno.readTextFile(joinPath(dir, file)).catch(() => "")).split("\n").filter((l) => l !== "");
  return {
    env: { PATH: `${bin}:${Deno.env.get("PATH") ?? ""}`, FAKE_SLURM_DIR: dir },
    calls: () => lines("calls"),
    jobs: () => lines("jobs"),
  };
}
