/**
 * The few assertions the data tests need (JSR's `@std/assert` is out of
 * reach), built on `node:assert/strict`. Error assertions also check that the
 * message is one line, since tasks print a {@linkcode UserError} as one line.
 */
import nodeAssert from "node:assert/strict";

/** Fails unless `condition` holds. */
export function assert(condition: unknown, message = "assertion failed"): asserts condition {
  nodeAssert.ok(condition, message);
}

/** Deep, strict equality (typed arrays compare element-wise and by type). */
export function assertEquals<T>(actual: T, expected: T, message?: string): void {
  nodeAssert.deepStrictEqual(actual, expected, message ?? "values differ");
}

/** |actual − expected| ≤ tolerance. */
export function assertAlmostEquals(actual: number, expected: number, tolerance = 1e-6, message = ""): void {
  nodeAssert.ok(Math.abs(actual - expected) <= tolerance, `${message} ${actual} ≠ ${expected} ± ${tolerance}`);
}

function check<E extends Error>(e: unknown, type: new (...args: never[]) => E, includes?: string): E {
  nodeAssert.ok(e instanceof type, `expected ${type.name}, got ${e instanceof Error ? `${e.name}: ${e.message}` : e}`);
  if (includes !== undefined) {
    nodeAssert.ok(
      e.message.includes(includes),
      `message ${JSON.stringify(e.message)} lacks ${JSON.stringify(includes)}`,
    );
  }
  nodeAssert.ok(!e.message.includes("\n"), `message is not one line: ${JSON.stringify(e.message)}`);
  return e;
}

/** Calls `fn`, expects it to throw a `type` whose one-line message contains `includes`; returns the error. */
export function assertThrows<E extends Error>(
  fn: () => unknown,
  type: new (...args: never[]) => E,
  includes?: string,
): E {
  try {
    fn();
  } catch (e) {
    return check(e, type, includes);
  }
  throw new nodeAssert.AssertionError({ message: `expected ${type.name} to be thrown` });
}

/** Async form of {@linkcode assertThrows}. */
export async function assertRejects<E extends Error>(
  fn: () => Promise<unknown>,
  type: new (...args: never[]) => E,
  includes?: string,
): Promise<E> {
  try {
    await fn();
  } catch (e) {
    return check(e, type, includes);
  }
  throw new nodeAssert.AssertionError({ message: `expected ${type.name} to be rejected` });
}
