/**
 * The one error type for mistakes a user can fix: a bad flag, a missing or
 * malformed file, an out-of-range value. Tasks print its message on one line
 * and exit with status 2; any other error is a bug and keeps its stack trace.
 *
 * @example
 * ```ts
 * throw new UserError("--width: expected a positive number, got 'abc'");
 * ```
 */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UserError";
  }
}

/**
 * Exit statuses of the package's tasks, in one place: 0 success, 1 a bug (an
 * uncaught error with its stack trace), 2 a {@linkcode UserError}, 3 training
 * diverged (NaN or infinite loss), 4 interrupted by SIGUSR1 or SIGTERM after
 * saving `last.ckpt` (resume with `--load`).
 */
export const EXIT = { ok: 0, bug: 1, user: 2, diverged: 3, interrupted: 4 } as const;
