/**
 * Progress display for long work: a redrawn bar on a terminal, plain lines
 * otherwise (logs, CI).
 */

const encoder = new TextEncoder();

/** Whether stderr is an interactive terminal. */
export function isTerminal(): boolean {
  try {
    return Deno.stderr.isTerminal();
  } catch {
    return false;
  }
}

/** Warns on stderr of a run folder skipped because it cannot be read (`RunSources.onSkip`). */
export function warnSkippedRun(dir: string, reason: string): void {
  console.error(`warning: skipping ${dir}: ${reason}`);
}

/** Formats seconds as `1h02m`, `3m05s` or `12.3s`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m}m${String(Math.floor(seconds % 60)).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

/** A progress bar over `total` steps with a label and a free-text suffix. */
export class ProgressBar {
  #start = performance.now();
  #lastDraw = 0;
  readonly #tty = isTerminal();

  constructor(readonly label: string, readonly total: number) {}

  /** Redraws the bar at `done` steps (at most 10 times a second). */
  update(done: number, suffix = ""): void {
    if (!this.#tty) return;
    const now = performance.now();
    if (done < this.total && now - this.#lastDraw < 100) return;
    this.#lastDraw = now;
    const width = 24;
    const frac = this.total > 0 ? Math.min(1, done / this.total) : 1;
    const filled = Math.round(frac * width);
    const elapsed = (now - this.#start) / 1000;
    const eta = done > 0 ? (elapsed / done) * (this.total - done) : NaN;
    const line = `${this.label} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${done}/${this.total} ` +
      `${formatDuration(elapsed)}<${formatDuration(eta)} ${suffix}`;
    Deno.stderr.writeSync(encoder.encode(`\r\x1b[2K${line}`));
  }

  /** Clears the bar line (the caller then prints its summary line). */
  done(): void {
    if (this.#tty) Deno.stderr.writeSync(encoder.encode("\r\x1b[2K"));
  }
}
