/**
 * Process control shared by the long-running tasks (train, evaluate): a
 * graceful stop on a scheduler's signal, and exiting with the parent.
 *
 * @module
 */

import { DIE_WITH_PARENT_ENV } from "../src/sweep/task_runner.ts";

/**
 * When `NCL_DIE_WITH_PARENT=1`, exits this process (status 4) soon after its
 * parent dies, however it died (kill -9 included): the parent's death makes
 * the kernel re-parent this process, which a one-second poll of `Deno.ppid`
 * sees. The poll does not keep the process alive.
 */
export function dieWithParent(): void {
  if (Deno.env.get(DIE_WITH_PARENT_ENV) !== "1") return;
  const parent = Deno.ppid;
  const timer = setInterval(() => {
    if (Deno.ppid === parent) return;
    console.error(`error: the parent process ${parent} is gone; stopping`);
    Deno.exit(4);
  }, 1000);
  Deno.unrefTimer(timer);
}

/**
 * An {@linkcode AbortSignal} that aborts on SIGUSR1 or SIGTERM (Slurm's
 * warning before a time limit or preemption, `scancel`, `kill`): training
 * then finishes its step and saves `last.ckpt`. A second signal exits at
 * once.
 */
export function stopOnSignals(onStop: (signal: string) => void): AbortSignal {
  const controller = new AbortController();
  for (const sig of ["SIGUSR1", "SIGTERM"] as const) {
    Deno.addSignalListener(sig, () => {
      if (controller.signal.aborted) Deno.exit(4);
      onStop(sig);
      controller.abort(sig);
    });
  }
  return controller.signal;
}
