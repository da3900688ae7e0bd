/**
 * Graph inputs read in place and outputs written into given memory
 * (`src/backend/graph`): TensorFlow reads large, 64-byte aligned arrays where
 * they are instead of a copy, never writes into them, and still copies what it
 * cannot use in place; `GraphRunner.run` and `evaluateBatch` write outputs
 * into the arrays they are given, checking sizes before any work. Ignored,
 * with the reason, without the native backend.
 */
import { assert, assertEquals, assertThrows } from "./_assert.ts";
import { tf } from "../src/backend/mod.ts";
import {
  addressOf,
  alignedFloat32Array,
  borrowedTensor,
  copyFromNative,
  TENSOR_ALIGNMENT,
  tensorflowCApi,
  TF_FLOAT,
} from "../src/backend/graph/_capi.ts";
import { traceGraphFunction } from "../src/backend/graph/graph_function.ts";
import { graphInputArray, GraphRunner } from "../src/backend/graph/graph_runner.ts";
import { makeLoss } from "../src/losses/mod.ts";
import { allVariables, createModel } from "../src/models/mod.ts";
import { evaluateBatch } from "../src/forward/mod.ts";
import { ignore, onNative, why } from "./_native.ts";

const bytesOf = (a: Float32Array) => new Uint8Array(a.buffer as ArrayBuffer, a.byteOffset, a.byteLength);

/** Counts `TF_NewTensor` calls (tensors over caller memory) while `f` runs. */
function countingLentTensors<T>(f: () => T): { result: T; lent: number } {
  const api = tensorflowCApi();
  const original = api.TF_NewTensor;
  let lent = 0;
  (api as { TF_NewTensor: typeof original }).TF_NewTensor = (...args: Parameters<typeof original>) => {
    lent++;
    return original(...args);
  };
  try {
    return { result: f(), lent };
  } finally {
    (api as { TF_NewTensor: typeof original }).TF_NewTensor = original;
  }
}

Deno.test({
  name: `aligned arrays of 4 KiB and more are lent to TensorFlow in place; others are not${why}`,
  ignore,
  fn: () =>
    onNative(() => {
      const api = tensorflowCApi();
      const a = alignedFloat32Array(api, 2048);
      assertEquals(a.length, 2048);
      assertEquals(addressOf(api, a) % BigInt(TENSOR_ALIGNMENT), 0n);
      assert(a.every((v) => v === 0), "zeroed");
      a.forEach((_, i) => a[i] = i - 1000.5);
      const t = borrowedTensor(api, TF_FLOAT, [32, 64], bytesOf(a));
      assert(t !== null, "an aligned 8 KiB array is lent");
      assertEquals(BigInt(api.TF_TensorData(t)), addressOf(api, a), "the tensor's data is the array's memory");
      a[5] = 42; // the tensor sees writes to the array: no copy was taken
      const seen = new Float32Array(2048);
      copyFromNative(api, bytesOf(seen), BigInt(api.TF_TensorData(t)));
      assertEquals(seen[5], 42);
      assertEquals(seen[2047], 1046.5);
      api.TF_DeleteTensor(t); // its deallocator must leave JavaScript's memory alone
      a[7] = 1;
      assertEquals([a[5], a[6], a[7]], [42, -994.5, 1]);

      const misaligned = new Float32Array(a.buffer, a.byteOffset + 16, 1024);
      assertEquals(borrowedTensor(api, TF_FLOAT, [1024], bytesOf(misaligned)), null, "16 bytes off the boundary");
      const small = alignedFloat32Array(api, 512); // 2 KiB
      assertEquals(borrowedTensor(api, TF_FLOAT, [512], bytesOf(small)), null, "under 4 KiB");

      // upload(…, borrow) falls back to a copy where it cannot lend, with the same values.
      const { fn } = traceGraphFunction(() => [], []);
      const copied = fn.upload(misaligned, [1024], "float32", true);
      assert(BigInt(api.TF_TensorData(copied)) !== addressOf(api, misaligned), "copied");
      assertEquals([...fn.read(copied)], [...misaligned]);
      const lent = fn.upload(a, [2048], "float32", true);
      assertEquals(BigInt(api.TF_TensorData(lent)), addressOf(api, a));
      const notAsked = fn.upload(a, [2048], "float32");
      assert(BigInt(api.TF_TensorData(notAsked)) !== addressOf(api, a), "copied unless borrow is asked for");
      fn.free(copied, lent, notAsked);
      fn.dispose();
    }),
});

Deno.test({
  name: `TensorFlow never writes into a lent input, even through ops that may reuse their input's memory${why}`,
  ignore,
  fn: () =>
    onNative(() => {
      const runner = GraphRunner.create([], { updatesVariables: false })!;
      const x = graphInputArray(4096);
      x.forEach((_, i) => x[i] = Math.sin(i) * 3);
      const before = x.slice();
      // Relu, Mul and Neg may write into their input when nothing else holds it.
      const body = ([t]: tf.Tensor[]) => [tf.relu(t), tf.mul(t, 2), tf.neg(tf.add(t, 1))];
      for (let call = 0; call < 3; call++) {
        const { result, lent } = countingLentTensors(() =>
          runner.run("ops", [{ values: x, shape: [64, 64], dtype: "float32" }], body)
        );
        assertEquals(lent, call === 0 ? 0 : 1, `call ${call}: the first call traces eagerly, later ones lend x`);
        const [relu, twice, neg] = result as Float32Array[];
        assert(x.every((v, i) => v === before[i]), `call ${call}: x changed`);
        assert(relu.every((v, i) => v === Math.max(0, before[i])), "relu");
        assert(twice.every((v, i) => v === Math.fround(2 * before[i])), "2x");
        assert(neg.every((v, i) => v === -Math.fround(before[i] + 1)), "-(x + 1)");
      }
      runner.dispose();
    }),
});

Deno.test({
  name: `a runner that updates its variables copies its inputs (its outputs outlive the call)${why}`,
  ignore,
  fn: () =>
    onNative(() => {
      const v = tf.variable(tf.zeros([4096]));
      const runner = GraphRunner.create([v], { updatesVariables: true })!;
      const x = graphInputArray(4096).fill(1);
      const step = () =>
        runner.run("step", [{ values: x, shape: [4096], dtype: "float32" }], ([t]) => {
          v.assign(tf.add(v, t));
          return [];
        });
      step(); // traced
      assertEquals(countingLentTensors(step).lent, 0);
      runner.sync();
      assertEquals(v.dataSync()[4095], 2);
      runner.dispose();
      v.dispose();
    }),
});

Deno.test({
  name: `run(…, into) writes outputs into the given arrays, and refuses a wrong size before running${why}`,
  ignore,
  fn: () =>
    onNative(() => {
      const runner = GraphRunner.create([], { updatesVariables: false })!;
      const body = ([t]: tf.Tensor[]) => [tf.mul(t, 3), tf.sum(t)];
      const input = { values: new Float32Array([1, 2, 3, 4]), shape: [4], dtype: "float32" as const };
      for (const call of ["traced", "replayed"]) {
        const into = new Float32Array(4);
        const [tripled, sum] = runner.run("f", [input], body, [into]);
        assert(tripled === into, `${call}: the given array is returned`);
        assertEquals([...into], [3, 6, 9, 12], call);
        assertEquals([...sum], [10], call);
      }
      const tooShort = new Float32Array(3);
      let ran = 0;
      assertThrows(
        () =>
          runner.run("f", [input], (t) => {
            ran++;
            return body(t);
          }, [tooShort]),
        Error,
        "read: 4 values into an array of 3",
      );
      assertEquals(ran, 0);
      assertEquals([...tooShort], [0, 0, 0]);
      assertEquals([...runner.run("f", [input], body)[0]], [3, 6, 9, 12], "still usable");
      runner.dispose();
    }),
});

Deno.test({
  name: `evaluateBatch writes the features into featuresInto, on graphs and op by op, with the same values${why}`,
  ignore,
  fn: () =>
    onNative(() => {
      const shape = [6];
      const x = graphInputArray(700 * 6);
      x.forEach((_, i) => x[i] = Math.cos(0.37 * i));
      const batch = { x, y: Int32Array.from({ length: 700 }, (_, i) => i % 4), n: 700 };
      const loss = makeLoss("cross_entropy");
      for (const graphs of [true, false]) {
        if (!graphs) Deno.env.set("TFJS_GRAPHS", "0");
        try {
          const model = createModel({
            model: "mlp",
            numClasses: 4,
            sampleShape: shape,
            width: 0.25,
            bias: true,
            seed: 3,
          });
          const d = model.featureDim;
          const fresh = evaluateBatch(model, loss, batch, shape, true);
          const into = new Float32Array(700 * d);
          const kept = evaluateBatch(model, loss, batch, shape, true, into);
          assert(kept.features === into, `graphs ${graphs}: the given array is returned`);
          assert(into.every((v, i) => v === fresh.features![i]), `graphs ${graphs}: features differ`);
          assertEquals([...kept.stats], [...fresh.stats]);
          assertThrows(
            () => evaluateBatch(model, loss, batch, shape, true, new Float32Array(700 * d + 1)),
            Error,
            "into an array of",
          );
          for (const v of allVariables(model)) v.variable.dispose();
        } finally {
          Deno.env.delete("TFJS_GRAPHS");
        }
      }
    }),
});

Deno.test({
  name: `graphInputArray is aligned where graphs run and plain elsewhere${why}`,
  ignore,
  fn: async () => {
    const api = tensorflowCApi();
    await onNative(() => {
      for (const n of [1, 1000, 100_003]) {
        const a = graphInputArray(n);
        assertEquals(a.length, n);
        assertEquals(addressOf(api, a) % BigInt(TENSOR_ALIGNMENT), 0n, `${n} values`);
      }
    });
    // On the portable backend (the default outside onNative): an ordinary array.
    const plain = graphInputArray(1000);
    assertEquals(plain.byteOffset, 0);
    assertEquals(plain.buffer.byteLength, 4000);
  },
});
