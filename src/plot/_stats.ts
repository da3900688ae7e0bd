/** Small statistics over the finite values of a list (private to `src/plot/`). */

/** The finite numbers of `values` (drops `null`, `undefined`, NaN). */
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
 * Population variance (divide by n, as NumPy's default `np.var` which the
 * reference's heatmap script uses); `null` for fewer than two values.
 */
export function variance(values: readonly number[]): number | null {
  if (values.length < 2) return null;
  const m = mean(values)!;
  let s = 0;
  for (const v of values) s += (v - m) ** 2;
  return s / values.length;
}
