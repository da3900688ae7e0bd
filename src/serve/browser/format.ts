/// <reference lib="dom" />
/**
 * Text of the dashboard's numbers and durations (browser module, served with
 * its types stripped).
 *
 * @module
 */

/**
 * A duration in seconds as `0.034 s`, `2.5 s`, `45 s`, `12 min`, `3.4 h`
 * (two significant digits below 10 s, so a fast epoch never reads `0.0 s`);
 * `–` for `null`.
 */
export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return "–";
  if (seconds < 10) return `${Number(seconds.toPrecision(2))} s`;
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/** A percentage with one decimal; `–` for `null`. */
export function formatPercent(value: number | null): string {
  return value === null || !Number.isFinite(value) ? "–" : value.toFixed(1);
}

/** Any setting value as text. */
export function formatValue(value: unknown): string {
  if (value === null || value === undefined) return "–";
  return typeof value === "string" ? value : JSON.stringify(value);
}

/**
 * A new element with `text` as its text content (never parsed as markup) and
 * the given class.
 */
export function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  text = "",
  className = "",
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (text) el.textContent = text;
  if (className) el.className = className;
  return el;
}
