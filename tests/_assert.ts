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
 * How close {@linkcode assertClose} asks numbers to be: each value of `actual` within
 * `abs` + `rel` · max(`floor`, scale) of `expected`'s, where the scale is |expected| of the same value, or with
 * `scale: "max"` the largest |expected| of the whole array or record (a norm-wise bound, for arrays whose entries
 * differ in size). `floor` = 1 makes a relative bound absolute near zero. Every term defaults to 0.
 */
export interface Tolerance {
  abs?: number;
  rel?: number;
  floor?: number;
  scale?: "each" | "max";
}

/** What {@linkcode assertClose} compares: a number, an array of numbers, or an object whose fields are numbers (metrics). */
export type Numbers = number | ArrayLike<number> | object;

/** The values of `x`, with their keys when it is a record (sorted). */
function flatten(x: Numbers): { kind: string; values: ArrayLike<number>; keys?: string[] } {
  if (typeof x === "number") return { kind: "a number", values: [x] };
  if (typeof (x as ArrayLike<number>).length === "number") return { kind: "an array", values: x as ArrayLike<number> };
  const keys = Object.keys(x).sort();
  return { kind: "a record", values: keys.map((k) => (x as Record<string, number>)[k]), keys };
}

/**
 * The one closeness assertion: `actual` and `expected` are numbers, arrays of the same length or records with the
 * same keys, every actual value is finite, and each is within `tolerance` ({@linkcode Tolerance}) of the expected one.
 * The failure names `what`, the index or key, both values and the bound.
 *
 * @example
 * ```ts
 * assertClose(0.1 + 0.2, 0.3, { abs: 1e-15 });
 * assertClose(new Float32Array([1, 1000]), [1.0001, 1000.1], { rel: 1e-3, floor: 1 }, "weights");
 * ```
 */
export function assertClose(actual: Numbers, expected: Numbers, tolerance: Tolerance, what = ""): void {
  const got = flatten(actual);
  const want = flatten(expected);
  const prefix = what ? `${what}: ` : "";
  const n = want.values.length;
  nodeAssert.ok(got.kind === want.kind, `${prefix}${got.kind} where ${want.kind} is expected`);
  nodeAssert.ok(got.values.length === n, `${prefix}${got.values.length} values where ${n} are expected`);
  if (want.keys) nodeAssert.deepStrictEqual(got.keys, want.keys, `${prefix}the keys differ`);
  const name = (i: number): string => want.keys?.[i] ?? (want.kind === "an array" ? `[${i}]` : "");
  const { abs = 0, rel = 0, floor = 0, scale = "each" } = tolerance;
  let largest = 0;
  for (let i = 0; i < n; i++) largest = Math.max(largest, Math.abs(want.values[i]));
  for (let i = 0; i < n; i++) {
    const a = got.values[i];
    const e = want.values[i];
    const bound = abs + rel * Math.max(floor, scale === "max" ? largest : Math.abs(e));
    if (!(Number.isFinite(a) && Math.abs(a - e) <= bound)) {
      nodeAssert.fail(`${prefix}${name(i)} ${a} vs ${e}: differs by ${Math.abs(a - e)}, more than ${bound}`);
    }
  }
}
