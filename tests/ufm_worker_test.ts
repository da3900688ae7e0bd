/** `ufmExperimentInWorker`: the same record as `ufmExperiment` in this thread, and a failure as a rejection. */
import { assertEquals, assertRejects } from "./_assert.ts";
import { ufmExperiment, type UfmExperimentConfig, ufmExperimentInWorker } from "../src/ufm/mod.ts";

const small: UfmExperimentConfig = {
  base: { K: 4, d: 8, n: 5 },
  losses: ["cross_entropy", "focal_loss"],
  gammas: [0, 2],
  smoothings: [],
  lambdas: [1e-3],
};

Deno.test("the UFM on a worker gives the record of the UFM in this thread, but for the time taken", async () => {
  const here = ufmExperiment(small);
  const there = await ufmExperimentInWorker(small);
  assertEquals(withoutTimes(there), withoutTimes(here));
});

Deno.test("a UFM that cannot be solved rejects with the solver's message", async () => {
  await assertRejects(
    () => ufmExperimentInWorker({ ...small, losses: ["no_such_loss"] }),
    Error,
    "UFM solve failed",
  );
});

/** `value` with every `seconds` field (wall-clock time, the one thing that may differ) set to 0. */
function withoutTimes(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value), (key, v) => key === "seconds" ? 0 : v);
}
