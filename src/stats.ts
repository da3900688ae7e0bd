/**
 * Small statistics over seeds: means, variances, Student-t confidence
 * intervals, and the interval of an absolute value. Used by the figures (mean
 * and interval per grid cell) and by the reproduction checks (whether an
 * interval decides a claim). Everything is float64 and pure.
 *
 * @module
 */

/** The finite numbers of `values` (drops `null`, `undefined`, NaN, ±∞). */
export function finite(values: readonly (number | null | undefined)[]): number[] {
  return values.filter((v): v is number => typeof v === "number" && Number.isFinite(v));
}

/** Arithmetic mean; `null` for an empty list. */
export function mean(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}

/**
 * Population variance (divide by n, as NumPy's default `np.var`, which the
 * reference's heatmap script uses); `null` for fewer than two values.
 */
export function variance(values: readonly number[]): number | null {
  if (values.length < 2) return null;
  const m = mean(values)!;
  let s = 0;
  for (const v of values) s += (v - m) ** 2;
  return s / values.length;
}

/** Sample standard deviation (divide by n − 1); `null` for fewer than two values. */
export function sampleStd(values: readonly number[]): number | null {
  const v = variance(values);
  return v === null ? null : Math.sqrt(v * values.length / (values.length - 1));
}

/** ln Γ(x) for x > 0 (Lanczos, g = 7, nine terms; relative error below 1e-14 on the range used here). */
function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const c = [
    0.99999999999980993,
    676.5203681218851,
    -1259.1392167224028,
    771.32342877765313,
    -176.61502916214059,
    12.507343278686905,
    -0.13857109526572012,
    9.9843695780195716e-6,
    1.5056327351493116e-7,
  ];
  const z = x - 1;
  let a = c[0];
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the incomplete beta function (modified Lentz), valid for x < (a + 1) / (a + b + 2). */
function betaFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - (a + b) * x / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 500; m++) {
    const m2 = 2 * m;
    let num = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
    d = 1 + num * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + num / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    num = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
    d = 1 + num * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + num / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const step = d * c;
    h *= step;
    if (Math.abs(step - 1) < 1e-15) break;
  }
  return h;
}

/** The regularised incomplete beta function I_x(a, b) for 0 ≤ x ≤ 1, a, b > 0. */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2) ? front * betaFraction(x, a, b) / a : 1 - front * betaFraction(1 - x, b, a) / b;
}

/** P(T ≤ t) for Student's t with `df` degrees of freedom (df > 0). */
export function studentTCdf(t: number, df: number): number {
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/**
 * The p-quantile of Student's t with `df` degrees of freedom (0 < p < 1, df > 0),
 * by bisection on the CDF to full double precision. `studentTQuantile(0.975, 2)`
 * is 4.3027 (closed form √(2·0.95² / (1 − 0.95²))).
 */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`studentTQuantile: p must be in (0, 1), got ${p}`);
  if (!(df > 0)) throw new RangeError(`studentTQuantile: df must be > 0, got ${df}`);
  if (p === 0.5) return 0;
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  let lo = 0;
  let hi = 1;
  while (studentTCdf(hi, df) < p) {
    lo = hi;
    hi *= 2;
    if (hi > 1e300) return Infinity;
  }
  for (let i = 0; i < 200 && hi - lo > 1e-15 * hi; i++) {
    const mid = 0.5 * (lo + hi);
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}

/** A mean with its two-sided confidence interval. */
export interface Interval {
  mean: number;
  /** Lower and upper end; `null` when fewer than two values give no interval. */
  lo: number | null;
  hi: number | null;
  /** Half-width of the interval (`null` with it). */
  half: number | null;
  /** How many values the mean is of. */
  n: number;
}

/**
 * The mean of `values` with its Student-t confidence interval at `level`
 * (default 95%): mean ± t(1 − (1 − level)/2, n − 1) · s / √n. With one value
 * the interval is unknown (`null`), never zero-width; with none the result is
 * `null`. Identical values give a zero-width interval.
 *
 * @example
 * ```ts
 * meanInterval([1, 2, 3]); // { mean: 2, lo: -0.484, hi: 4.484, half: 2.484, n: 3 }
 * ```
 */
export function meanInterval(values: readonly number[], level = 0.95): Interval | null {
  const m = mean(values);
  if (m === null) return null;
  const n = values.length;
  if (n < 2) return { mean: m, lo: null, hi: null, half: null, n };
  const half = studentTQuantile(1 - (1 - level) / 2, n - 1) * sampleStd(values)! / Math.sqrt(n);
  return { mean: m, lo: m - half, hi: m + half, half, n };
}

/**
 * The mean of the paired differences a(k) − b(k) over the keys (typically
 * seeds) that both maps hold, or over `keys` when given, with its interval
 * as {@linkcode meanInterval}; `null` when no key is shared.
 *
 * @example
 * ```ts
 * pairedDifference(new Map([[1, 80], [2, 82]]), new Map([[1, 78], [2, 79], [3, 70]])); // mean 2.5 over seeds 1, 2
 * ```
 */
export function pairedDifference(
  a: ReadonlyMap<number, number>,
  b: ReadonlyMap<number, number>,
  keys: readonly number[] = [...a.keys()].filter((k) => b.has(k)),
  level = 0.95,
): Interval | null {
  return meanInterval(keys.map((k) => a.get(k)! - b.get(k)!), level);
}

/**
 * The interval of |x| given an interval of x: [min |·|, max |·|] of the ends,
 * or [0, max |·|] when the interval contains 0. The mean becomes |mean|.
 */
export function absInterval(i: Interval): Interval {
  if (i.lo === null || i.hi === null) return { ...i, mean: Math.abs(i.mean) };
  const a = Math.abs(i.lo);
  const b = Math.abs(i.hi);
  const lo = i.lo <= 0 && i.hi >= 0 ? 0 : Math.min(a, b);
  const hi = Math.max(a, b);
  return { mean: Math.abs(i.mean), lo, hi, half: i.half, n: i.n };
}
