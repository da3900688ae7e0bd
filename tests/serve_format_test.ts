/** The dashboard's duration text: two significant digits below 10 s, then s, min and h. */
import { assertEquals } from "./_assert.ts";
import { formatDuration } from "../src/serve/browser/format.ts";

Deno.test("formatDuration gives fast epochs two significant digits and long runs minutes or hours", () => {
  assertEquals(formatDuration(0.0342), "0.034 s");
  assertEquals(formatDuration(0), "0 s");
  assertEquals(formatDuration(2.46), "2.5 s");
  assertEquals(formatDuration(45.4), "45 s");
  assertEquals(formatDuration(720), "12 min");
  assertEquals(formatDuration(3.4 * 3600), "3.4 h");
  assertEquals(formatDuration(null), "–");
  assertEquals(formatDuration(Number.NaN), "–");
});
