/** Top-k accuracy and its tie rule. */
import assert from "node:assert/strict";
import { topKAccuracy, trueClassRank } from "../src/metrics/mod.ts";
import { UserError } from "../src/errors.ts";

Deno.test("trueClassRank counts larger logits and equal ones of lower classes", () => {
  const z = new Float64Array([0.5, 0.9, 0.5, 0.1]);
  assert.equal(trueClassRank(z, 0, 4, 1), 0);
  assert.equal(trueClassRank(z, 0, 4, 0), 1);
  assert.equal(trueClassRank(z, 0, 4, 2), 2); // class 0 ties and comes first
  assert.equal(trueClassRank(z, 0, 4, 3), 3);
  assert.equal(trueClassRank(new Float64Array([9, 1, 2]), 1, 2, 1), 0); // offset selects [1, 2]
});

Deno.test("topKAccuracy in percent; k ≥ K gives 100", () => {
  const logits = new Float32Array([0.9, 0.1, 0.0, 0.2, 0.3, 0.5, 0.4, 0.4, 0.2]);
  const labels = [0, 1, 2];
  assert.equal(topKAccuracy(logits, labels, 3, 1), 100 / 3);
  assert.equal(topKAccuracy(logits, labels, 3, 2), 200 / 3);
  assert.equal(topKAccuracy(logits, labels, 3, 5), 100);
  assert.throws(() => topKAccuracy(logits, [0, 1], 3, 1), UserError);
  assert.throws(() => topKAccuracy(logits, [0, 1, 3], 3, 1), /label 3 at index 2/);
});
