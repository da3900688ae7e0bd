/**
 * The assertions the tests use (JSR's `@std/assert` is out of reach), built on
 * `node:assert/strict`; this is the one module that imports it. Error
 * assertions also check that the message is one line, since tasks print a
 * {@linkcode UserError} as one line.
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

/** Negation of {@linkcode assertEquals}: fails if the values are deeply, strictly equal. */
export function assertNotEquals<T>(actual: T, expected: T, message?: string): void {
  nodeAssert.notDeepStrictEqual(actual, expected, message ?? "values are equal");
}

/** Fails unless `regex` matches the string `actual`. */
export function assertMatch(actual: string, regex: RegExp, message?: string): void {
  if (message === undefined) nodeAssert.match(actual, regex);
  else nodeAssert.match(actual, regex, message);
}

/** Fails if `regex` matches the string `actual`. */
export function assertNotMatch(actual: string, regex: RegExp, message?: string): void {
  if (message === undefined) nodeAssert.doesNotMatch(actual, regex);
  else nodeAssert.doesNotMatch(actual, regex, message);
}

/** Fails unconditionally with `message`. */
export function fail(message: string): never {
  nodeAssert.fail(message);
}

/** |actual − expected| ≤ tolerance. */
export function assertAlmostEquals(actual: number, expected: number, tolerance = 1e-6, message = ""): void {
  nodeAssert.ok(Math.abs(actual - expected) <= tolerance, `${message} ${actual} ≠ ${expected} ± ${tolerance}`);
}

function check<E extends Error>(
  e: unknown,
  type: new (...args: never[]) => E,
  includes: string | RegExp | undefined,
  prefix: string,
): E {
  nodeAssert.ok(
    e instanceof type,
    `${prefix}expected ${type.name}, got ${e instanceof Error ? `${e.name}: ${e.message}` : e}`,
  );
  if (typeof includes === "string") {
    nodeAssert.ok(
      e.message.includes(includes),
      `${prefix}message ${JSON.stringify(e.message)} lacks ${JSON.stringify(includes)}`,
    );
  } else if (includes !== undefined) {
    nodeAssert.ok(includes.test(e.message), `${prefix}message ${JSON.stringify(e.message)} does not match ${includes}`);
  }
  nodeAssert.ok(!e.message.includes("\n"), `${prefix}message is not one line: ${JSON.stringify(e.message)}`);
  return e;
}

/**
 * Calls `fn`, expects it to throw a `type` whose one-line message contains
 * `includes` (a string) or matches it (a RegExp); returns the error. `message`
 * prefixes the failure text.
 */
export function assertThrows<E extends Error>(
  fn: () => unknown,
  type: new (...args: never[]) => E,
  includes?: string | RegExp,
  message?: string,
): E {
  const prefix = message ? `${message}: ` : "";
  try {
    fn();
  } catch (e) {
    return check(e, type, includes, prefix);
  }
  throw new nodeAssert.AssertionError({ message: `${prefix}expected ${type.name} to be thrown` });
}

/** Async form of {@linkcode assertThrows}. */
export async function assertRejects<E extends Error>(
  fn: () => Promise<unknown>,
  type: new (...args: never[]) => E,
  includes?: string | RegExp,
  message?: string,
): Promise<E> {
  const prefix = message ? `${message}: ` : "";
  try {
    await fn();
  } catch (e) {
    return check(e, type, includes, prefix);
  }
  throw new nodeAssert.AssertionError({ message: `${prefix}expected ${type.name} to be rejected` });
}

/**
 * Every number of `actual` within `rel` · max(`floor`, |expected|) of the same key of `expected`: records whose
 * fields differ in scale (metrics). `floor` = 1 makes the bound absolute near zero; a tiny floor keeps it relative.
 * The failure names `what` and the key.
 */
export function assertCloseRecords<K extends string>(
  actual: Record<NoInfer<K>, number>,
  expected: Record<K, number>,
  rel: number,
  what: string,
  floor = 1,
): void {
  for (const key of Object.keys(actual) as K[]) {
    const tol = rel * Math.max(floor, Math.abs(expected[key]));
    nodeAssert.ok(Math.abs(actual[key] - expected[key]) <= tol, `${what}: ${key} ${actual[key]} vs ${expected[key]}`);
  }
}
