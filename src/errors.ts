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
