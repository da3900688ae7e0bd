/** Top-k accuracy and its tie rule. */
import { assertEquals, assertThrows } from "./_assert.ts";
import { topKAccuracy, trueClassRank } from "../src/metrics/mod.ts";
import { UserError } from "../src/errors.ts";

Deno.test("trueClassRank counts larger logits and equal ones of lower classes", () => {
  const z = new Float64Array([0.5, 0.9, 0.5, 0.1]);
  assertEquals(trueClassRank(z, 0, 4, 1), 0);
  assertEquals(trueClassRank(z, 0, 4, 0), 1);
  assertEquals(trueClassRank(z, 0, 4, 2), 2); // class 0 ties and comes first
  assertEquals(trueClassRank(z, 0, 4, 3), 3);
  assertEquals(trueClassRank(new Float64Array([9, 1, 2]), 1, 2, 1), 0); // offset selects [1, 2]
});

Deno.test("topKAccuracy in percent; k ≥ K gives 100", () => {
  const logits = new Float32Array([0.9, 0.1, 0.0, 0.2, 0.3, 0.5, 0.4, 0.4, 0.2]);
  const labels = [0, 1, 2];
  assertEquals(topKAccuracy(logits, labels, 3, 1), 100 / 3);
  assertEquals(topKAccuracy(logits, labels, 3, 2), 200 / 3);
  assertEquals(topKAccuracy(logits, labels, 3, 5), 100);
  assertThrows(() => topKAccuracy(logits, [0, 1], 3, 1), UserError);
  assertThrows(() => topKAccuracy(logits, [0, 1, 3], 3, 1), Error, /label 3 at index 2/);
});
