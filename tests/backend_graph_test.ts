/**
 * Traced TensorFlow graphs (`src/backend/graph`): a graph computes what the
 * eager ops it was traced from compute, to the last bit; what cannot be
 * traced safely is refused; and training through graphs leaves the very run
 * folder eager training leaves (log and checkpoints byte for byte), across
 * partial batches, epochs, every loss, an interruption and its resume, and a
 * convolutional network. Ignored, with the reason, without the native backend.
 */
import { assert, assertEquals, assertThrows } from "./_assert.ts";
import { tf } from "../src/backend/mod.ts";
import { loadedNativeBinding } from "../src/backend/native.ts";
import { sessionConfig, tensorflowCApi, TfStatus } from "../src/backend/graph/_capi.ts";
import { elfDynamicInfo, tensorflowLibraryFor } from "../src/backend/graph/_library_path.ts";
import { mergeableOp, traceGraphFunction, UntraceableError } from "../src/backend/graph/graph_function.ts";
import { GraphRunner } from "../src/backend/graph/graph_runner.ts";
import { makeSyntheticDataset } from "../src/data/mod.ts";
import { LOSS_NAMES, makeLoss } from "../src/losses/mod.ts";
import { allVariables, createModel } from "../src/models/mod.ts";
import { readCheckpoint } from "../src/run/checkpoint.ts";
import { graphTrainStep, trainingGraph, trainRun, trainStep } from "../src/train/train.ts";
import { Optimizer, REFERENCE_SGD } from "../src/train/optimizer.ts";
import { type Batch, evaluateBatch } from "../src/forward/mod.ts";
import { checkpointed } from "../src/models/_checkpointing.ts";
import { tinyConfig } from "./_train_fixture.ts";
import { ignore, onNative, why } from "./_native.ts";

Deno.test({
  name: `a traced graph replays its ops on new inputs: (x + 1)·2, AddN, concat, int32 outputs${why}`,
  ignore,
  fn: () =>
    onNative(() => {
      const x = tf.tensor1d([1, 2, 3]);
      const k = tf.tensor1d([5, 6], "int32");
      const { fn, outputs } = traceGraphFunction(
        () => [tf.mul(tf.add(x, 1), 2), tf.addN([x, x, x]), tf.concat([x, x]), tf.add(k, tf.scalar(1, "int32"))],
        [x, k],
      );
      assertEquals([...outputs[0].dataSync()], [4, 6, 8]); // the traced call itself ran eagerly
      tf.dispose([x, k, ...outputs]);
      const xs = fn.upload(new Float32Array([4, 5, 6]), [3], "float32");
      const ks = fn.upload(new Int32Array([-1, 7]), [2], "int32");
      const out = fn.run([xs, ks]);
      assertEquals([...fn.read(out[0])], [10, 12, 14]);
      assertEquals([...fn.read(out[1])], [12, 15, 18]);
      assertEquals([...fn.read(out[2])], [4, 5, 6, 4, 5, 6]);
      assertEquals([...fn.read(out[3], "int32")], [0, 8]);
      fn.free(xs, ks, ...out);
      assertThrows(() => fn.run([]), Error, "expected 2 inputs");
      fn.dispose();

      // Equal constants share a node; 0 and -0 are not equal (x·0 and x·(−0) differ in sign for x < 0).
      const v = tf.tensor1d([-1, 2]);
      const signs = traceGraphFunction(() => [tf.mul(v, tf.scalar(0)), tf.mul(v, tf.scalar(-0)), tf.mul(v, 0)], [v]);
      tf.dispose([v, ...signs.outputs]);
      const vs = signs.fn.upload(new Float32Array([-3, 4]), [2], "float32");
      assertEquals(signs.fn.nodes, 6); // the input, 0 and -0 (x·0 twice, one node), three products
      const outs = signs.fn.run([vs]);
      const [pos, neg, again] = outs.map((t) => [...signs.fn.read(t)]);
      signs.fn.free(...outs);
      assert(Object.is(pos[0], -0) && Object.is(pos[1], 0), `x·0: ${pos}`);
      assert(Object.is(neg[0], 0) && Object.is(neg[1], -0), `x·(−0): ${neg}`);
      assert(Object.is(again[0], -0), `x·0 again: ${again}`);
      signs.fn.free(vs);
      signs.fn.dispose();
      assertThrows(() => fn.run([]), Error, "after dispose");
    }),
});

Deno.test({
  name: `tracing refuses a tensor that is not a declared input, and a read back to JavaScript${why}`,
  ignore,
  fn: () =>
    onNative(() => {
      const x = tf.tensor1d([1, 2]);
      // Made before the trace and not declared: it would be frozen into the graph as a constant. Both
      // cases: values already uploaded (used once), and still in JavaScript (tfjs-node uploads on first use).
      const used = tf.tensor1d([3, 4]);
      tf.neg(used).dispose();
      const fresh = tf.tensor1d([3, 4]);
      for (const hidden of [used, fresh]) {
        assertThrows(
          () => traceGraphFunction(() => [tf.add(x, hidden)], [x]),
          UntraceableError,
          "not a declared input",
        );
      }
      const hidden = used;
      assertThrows(
        () => traceGraphFunction(() => [tf.scalar(tf.sum(x).dataSync()[0])], [x]),
        UntraceableError,
        "read back",
      );
      // The binding is restored: eager ops and reads work as before.
      assertEquals([...tf.add(x, hidden).dataSync()], [4, 6]);
      tf.dispose([x, used, fresh]);
    }),
});

Deno.test({
  name:
    `GraphRunner keeps updated variables in the graph until sync(), and takes values assigned outside it, refuses to lose its own${why}`,
  ignore,
  fn: () =>
    onNative(() => {
      const v = tf.variable(tf.scalar(1));
      const runner = GraphRunner.create([v], { updatesVariables: true })!;
      assert(runner !== null);
      const double = () =>
        runner.run("x2", [{ values: new Float32Array([2]), shape: [], dtype: "float32" }], ([x]) => {
          v.assign(tf.mul(v, x));
          return [tf.add(v, 0)];
        });
      assertEquals([...double()[0]], [2]); // traced (eager)
      assertEquals(v.dataSync()[0], 2);
      assertEquals([...double()[0]], [4]); // graph: the tfjs variable lags until sync
      assertEquals([...double()[0]], [8]);
      assertEquals(v.dataSync()[0], 2);
      runner.sync();
      assertEquals(v.dataSync()[0], 8);
      v.assign(tf.scalar(3)); // assigned outside: the graph's copy is replaced
      assertEquals([...double()[0]], [6]);
      assertEquals([...double()[0]], [12]);
      v.assign(tf.scalar(1)); // assigned while the graph holds newer values: an update would be lost
      assertThrows(() => double(), Error, "newer values");
      runner.sync();
      assertEquals(v.dataSync()[0], 12);
      assertEquals([...double()[0]], [24]);
      runner.dispose(); // syncs
      assertEquals(v.dataSync()[0], 24);
      v.dispose();
    }),
});

/** Every file of a run folder that training writes, but for the wall-clock seconds in the log. */
async function runFiles(dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const e of Deno.readDirSync(dir)) {
    if (e.name === "log.jsonl") {
      const lines = (await Deno.readTextFile(`${dir}/${e.name}`)).trim().split("\n");
      files.set(e.name, lines.map((l) => JSON.stringify({ ...JSON.parse(l), seconds: 0 })).join("\n"));
    } else if (e.name.endsWith(".ckpt")) {
      const ckpt = await readCheckpoint(`${dir}/${e.name}`);
      const tensors = [...ckpt.tensors].map(([name, t]) => `${name}:${t.shape}:${[...t.values].join(",")}`);
      files.set(e.name, JSON.stringify(ckpt.meta) + tensors.join(";"));
    }
  }
  return files;
}

/** 4 classes × 30 = 120 samples: batches of 100 and 20, so each epoch uses two graphs. */
const data = () => makeSyntheticDataset({ numClasses: 4, dim: 8, trainPerClass: 30, valPerClass: 5 });

Deno.test({
  name: `training through graphs writes the same run folder as eager training, for every loss${why}`,
  ignore,
  fn: () =>
    onNative(async () => {
      for (const loss of LOSS_NAMES) {
        const folders: Map<string, string>[] = [];
        for (const graphs of [false, true]) {
          const dir = await Deno.makeTempDir({ prefix: "graph_" });
          try {
            const before = tf.memory().numTensors;
            const cfg = tinyConfig(dir, 3, { loss, backend: "tensorflow", saveInterval: 1 });
            let eagerSteps: string | null = "not started";
            const { model } = await trainRun(cfg, data(), {}, {
              graphs,
              onStart: (info) => eagerSteps = info.eagerSteps,
            });
            assertEquals(eagerSteps, graphs ? null : "graphs turned off");
            for (const v of allVariables(model)) v.variable.dispose();
            assertEquals(tf.memory().numTensors, before, `${loss}: tensors leaked (graphs ${graphs})`);
            folders.push(await runFiles(dir));
          } finally {
            await Deno.remove(dir, { recursive: true });
          }
        }
        assertEquals([...folders[1].keys()].sort(), [...folders[0].keys()].sort());
        for (const [name, eager] of folders[0]) assert(folders[1].get(name) === eager, `${loss}: ${name} differs`);
      }
    }),
});

Deno.test({
  name: `a run interrupted mid-epoch and resumed through graphs equals the uninterrupted run${why}`,
  ignore,
  fn: () =>
    onNative(async () => {
      const whole = await Deno.makeTempDir({ prefix: "graph_" });
      const split = await Deno.makeTempDir({ prefix: "graph_" });
      try {
        const cfg = (dir: string) => tinyConfig(dir, 3, { backend: "tensorflow", batchSize: 25 });
        await trainRun(cfg(whole), data());
        const stop = new AbortController();
        const first = await trainRun(cfg(split), data(), {}, {
          signal: stop.signal,
          onBatch: (epoch, batch) => {
            if (epoch === 2 && batch === 2) stop.abort();
          },
        });
        assertEquals(first.interrupted, { epoch: 1, batch: 2 });
        await trainRun({ ...cfg(split), load: true }, data());
        const [a, b] = [await runFiles(whole), await runFiles(split)];
        for (const name of ["log.jsonl", "last.ckpt", "epoch-0003.ckpt"]) {
          assert(a.get(name) !== undefined && a.get(name) === b.get(name), `${name} differs after the resume`);
        }
      } finally {
        await Deno.remove(whole, { recursive: true });
        await Deno.remove(split, { recursive: true });
      }
    }),
});

Deno.test({
  name: `a ResNet-18 step (convolutions, gradient tape, checkpointing) through a graph equals the eager step${why}`,
  ignore,
  fn: () =>
    onNative(() => {
      const shape = [8, 8, 3];
      const loss = makeLoss("label_smoothing");
      const x = Float32Array.from({ length: 6 * 8 * 8 * 3 }, (_, i) => Math.sin(0.37 * i));
      const y = Int32Array.from({ length: 6 }, (_, i) => (3 * i) % 10);
      const eager = smallResNet18(shape, 3);
      const traced = smallResNet18(shape, 3);
      const runner = GraphRunner.create(traced.state(), { updatesVariables: true })!;
      for (let step = 0; step < 3; step++) {
        const stats = trainStep(eager.model, eager.opt, loss, x, y, shape, 0.1, 2);
        const expected = [...stats.dataSync()];
        stats.dispose();
        const got = [...graphTrainStep(runner, traced.model, traced.opt, loss, x, y, shape, 0.1, 2)];
        assertEquals(got, expected, `step ${step + 1}: batch statistics`);
      }
      runner.dispose();
      assertEquals(traced.opt.step, 3);
      assertSameState(eager.state(), traced.state(), "after 3 steps");
      tf.dispose([...eager.state(), ...traced.state()]);
    }),
});

Deno.test({
  name: `evaluation through graphs gives the eager features, losses and hits, and follows changed weights${why}`,
  ignore,
  fn: () =>
    onNative(() => {
      const shape = [8, 8, 3];
      const size = 8 * 8 * 3;
      for (const name of ["mlp", "resnet18"]) {
        const make = () =>
          createModel({ model: name, numClasses: 10, sampleShape: shape, width: 0.125, bias: true, seed: 5 });
        Deno.env.set("TFJS_GRAPHS", "0");
        const eager = make(); // its evaluation graphs are looked up (and refused) now, once
        const ref = (b: Batch) => evaluateBatch(eager, makeLoss("focal_loss"), b, shape, true);
        const first = ref(batchOf(7, size, 1));
        Deno.env.delete("TFJS_GRAPHS");
        const traced = make();
        const loss = makeLoss("focal_loss");
        for (const [k, batch] of [batchOf(7, size, 1), batchOf(7, size, 2), batchOf(3, size, 3)].entries()) {
          if (k === 2) {
            // New weights, as after an epoch or a restored checkpoint: both models get the same ones.
            for (const m of [eager, traced]) {
              for (const v of allVariables(m)) v.variable.assign(tf.mul(v.variable, 0.5));
            }
          }
          const want = k === 0 ? first : ref(batch);
          const got = evaluateBatch(traced, loss, batch, shape, true);
          assertEquals([...got.stats], [...want.stats], `${name}, batch ${k}: statistics`);
          assertEquals(got.meanLoss, want.meanLoss, `${name}, batch ${k}: loss`);
          assert(got.features!.every((v, i) => v === want.features![i]), `${name}, batch ${k}: features differ`);
        }
        for (const m of [eager, traced]) for (const v of allVariables(m)) v.variable.dispose();
      }
    }),
});

/** A batch of `n` seeded samples of `size` values with labels. */
function batchOf(n: number, size: number, seed: number): Batch {
  return {
    x: Float32Array.from({ length: n * size }, (_, i) => Math.sin(0.29 * i + seed)),
    y: Int32Array.from({ length: n }, (_, i) => (i * seed) % 10),
    n,
  };
}

Deno.test({
  name: `the TensorFlow library is found from the addon's ELF runpath, and TensorFlow accepts our session config${why}`,
  ignore,
  fn: () => {
    const binding = loadedNativeBinding()!;
    const { needed, runpath } = elfDynamicInfo(Deno.readFileSync(binding));
    assert(needed.some((n) => n.startsWith("libtensorflow")), `NEEDED: ${needed}`);
    const path = tensorflowLibraryFor(binding)!;
    assert(path !== null && runpath.some((dir) => path.startsWith(dir)), `${path} not under ${runpath}`);
    assertThrows(() => elfDynamicInfo(new TextEncoder().encode("#!/bin/sh\n")), Error, "not a 64-bit");
    const api = tensorflowCApi();
    const status = new TfStatus(api);
    const opts = BigInt(api.TF_NewSessionOptions());
    try {
      for (const [intra, inter, optimize] of [[0, 0, false], [1, 2, true], [300, 1, false]] as const) {
        const config = sessionConfig(intra, inter, optimize);
        api.TF_SetConfig(opts, config, BigInt(config.length), status.ptr);
        status.check(`config ${intra}/${inter}/${optimize}`);
      }
      const broken = new Uint8Array([0x52, 0x09, 0x01]); // a length running past the end
      api.TF_SetConfig(opts, broken, BigInt(broken.length), status.ptr);
      assertThrows(() => status.check("broken config"), Error, "broken config");
    } finally {
      api.TF_DeleteSessionOptions(opts);
      status.dispose();
    }
  },
});

Deno.test({
  name: `a checkpointed block's recomputation waits for its gradient in the graph, and computes the same${why}`,
  ignore,
  fn: () =>
    onNative(() => {
      const w = tf.variable(tf.tensor2d([[0.5, -1, 2], [1, 0.25, -0.5], [-2, 1, 1]]));
      const x = tf.tensor2d([[1, 2, 3], [-1, 0.5, 2]]);
      const lossAndGrad = (block: (h: tf.Tensor2D) => tf.Tensor2D) => {
        const { value, grads } = tf.variableGrads(() => tf.sum(block(x)) as tf.Scalar, [w]);
        return [value, grads[w.name]];
      };
      const plain = (h: tf.Tensor2D) => tf.relu(tf.matMul(tf.relu(tf.matMul(h, w)), w)) as tf.Tensor2D;
      const expected = lossAndGrad(plain).map((t) => [...t.dataSync()]);
      const counts: number[] = [];
      for (const checkpoint of [false, true]) {
        const block = checkpoint ? (h: tf.Tensor2D) => checkpointed(plain, h, [w], (f) => f()) : plain;
        const { fn, outputs } = traceGraphFunction(() => lossAndGrad(block), [x, w]);
        tf.dispose(outputs);
        counts.push(fn.controlInputs);
        const inputs = [fn.upload(x.dataSync() as Float32Array, [2, 3], "float32")];
        inputs.push(fn.upload(w.dataSync() as Float32Array, [3, 3], "float32"));
        const out = fn.run(inputs);
        assertEquals(out.map((t) => [...fn.read(t)]), expected, `checkpointing ${checkpoint}`);
        fn.free(...inputs, ...out);
        fn.dispose();
      }
      assertEquals(counts[0], 0);
      assert(counts[1] > 0, "the recomputation has no control dependency on dy");
      tf.dispose([w, x]);
    }),
});

Deno.test({
  name: `constants of every dtype tfjs-node uploads reach the graph intact: bool, and int64 as raw words${why}`,
  ignore,
  fn: () =>
    onNative(() => {
      const backend = tf.backend() as unknown as {
        binding: {
          createTensor(shape: number[], dtype: number, values: ArrayLike<number>): number;
          executeOp(op: string, attrs: unknown[], inputs: number[], n: number): { id: number }[];
        };
        createOutputTensor(meta: unknown): tf.Tensor;
      };
      const x = tf.tensor1d([1, 2]);
      const { fn, outputs } = traceGraphFunction(() => {
        const mask = tf.tensor1d([1, 0], "bool");
        // 2³² + 7 as tfjs-node passes an int64: the low and the high 32-bit word.
        const big = backend.binding.createTensor([], 9, new Int32Array([7, 1]));
        const cast = backend.binding.executeOp(
          "Cast",
          [
            { name: "SrcT", type: 4, value: 9 },
            { name: "DstT", type: 4, value: 1 },
            { name: "Truncate", type: 3, value: false },
          ],
          [big],
          1,
        );
        return [tf.where(mask, x, tf.neg(x)), backend.createOutputTensor(cast[0])];
      }, [x]);
      const eager = outputs.map((t) => [...t.dataSync()]);
      assertEquals(eager, [[1, -2], [4294967296]]);
      tf.dispose([x, ...outputs]);
      const xs = fn.upload(new Float32Array([1, 2]), [2], "float32");
      const out = fn.run([xs]);
      assertEquals(out.map((t) => [...fn.read(t)]), eager);
      fn.free(xs, ...out);
      assertThrows(() => fn.upload(new Float32Array(2), [3], "float32"), Error, "8 bytes for a tensor of shape [3]");
      fn.dispose();
    }),
});

Deno.test({
  name: `merging repeated ops builds one node per op on the same inputs, with the same outputs${why}`,
  ignore,
  fn: () =>
    onNative(() => {
      const x = tf.tensor1d([1, -2, 3]);
      const body = () => {
        const a = tf.mul(x, 2);
        const b = tf.mul(x, 2); // the same op on the same inputs: one node when merging
        const c = tf.mul(x, -0); // a -0 attribute-free constant: its own Const, so its own Mul
        return [tf.add(a, b), tf.exp(a), tf.exp(b), c];
      };
      const plain = traceGraphFunction(body, [x]);
      const merged = traceGraphFunction(body, [x], { mergeRepeatedOps: true });
      assertEquals(plain.fn.nodes - merged.fn.nodes, 2, "the second Mul and the second Exp");
      for (const { fn } of [plain, merged]) {
        const input = fn.upload(new Float32Array([0.5, -1, 4]), [3], "float32");
        const out = fn.run([input]);
        assertEquals(out.map((t) => [...fn.read(t)]), [
          [2, -4, 16],
          [Math.fround(Math.exp(1)), Math.fround(Math.exp(-2)), Math.fround(Math.exp(8))],
          [Math.fround(Math.exp(1)), Math.fround(Math.exp(-2)), Math.fround(Math.exp(8))],
          [-0, 0, -0],
        ]);
        fn.free(input, ...out);
        fn.dispose();
      }
      tf.dispose([x, ...plain.outputs, ...merged.outputs]);
      for (const op of ["Conv2D", "Mul", "FusedBatchNormV3", "Relu"]) assert(mergeableOp(op), op);
      for (const op of ["RandomUniform", "StatelessRandomUniformV2", "Multinomial", "AssignVariableOp"]) {
        assert(!mergeableOp(op), op);
      }
    }),
});

Deno.test({
  name: `a checkpointed ResNet-18's training graph builds the recomputation once and equals the eager step${why}`,
  ignore,
  fn: () =>
    onNative(() => {
      const shape = [8, 8, 3];
      const make = () => {
        const net = smallResNet18(shape, 4);
        net.model.checkpointMinPositions = 0; // every block checkpointed (8 × 8 maps are under ResNet-18's default)
        return net;
      };
      const loss = makeLoss("cross_entropy");
      const x = Float32Array.from({ length: 5 * 8 * 8 * 3 }, (_, i) => Math.cos(0.23 * i));
      const y = Int32Array.from({ length: 5 }, (_, i) => (7 * i) % 10);
      const eager = make();
      assertEquals(eager.model.recomputeInGraphs, false);
      const merged = make();
      const recomputing = make();
      const mergedRunner = trainingGraph(merged.model, merged.opt)!;
      const recomputingRunner = GraphRunner.create(recomputing.state(), { updatesVariables: true })!;
      for (let step = 0; step < 3; step++) {
        const stats = trainStep(eager.model, eager.opt, loss, x, y, shape, 0.1, 2);
        const expected = [...stats.dataSync()];
        stats.dispose();
        for (const [runner, m] of [[mergedRunner, merged], [recomputingRunner, recomputing]] as const) {
          const got = [...graphTrainStep(runner, m.model, m.opt, loss, x, y, shape, 0.1, 2)];
          assertEquals(got, expected, `step ${step + 1}: batch statistics`);
        }
      }
      const [withMerge, without] = [mergedRunner.graphNodes("train 5")!, recomputingRunner.graphNodes("train 5")!];
      // At least the recomputed forward ops are gone: per block two convolutions, two batch norms, two ReLUs and
      // the sum (7), plus a convolution and a batch norm on the three projection shortcuts.
      assert(without - withMerge >= 8 * 7 + 3 * 2, `${withMerge} nodes merged against ${without}`);
      mergedRunner.dispose();
      recomputingRunner.dispose();
      for (const m of [merged, recomputing]) assertSameState(eager.state(), m.state(), "after 3 steps");
      tf.dispose([eager, merged, recomputing].flatMap((m) => m.state()));
    }),
});

/** A seeded ResNet-18 of width 0.125 on `shape` with the reference SGD; `state()`: its variables and the slots. */
function smallResNet18(shape: number[], seed: number) {
  const model = createModel({ model: "resnet18", numClasses: 10, sampleShape: shape, width: 0.125, bias: true, seed });
  const opt = new Optimizer(model.store.trainable.map((v) => v.variable), REFERENCE_SGD);
  return { model, opt, state: () => [...allVariables(model).map((v) => v.variable), ...opt.slots.flat()] };
}

/** Asserts that two training states hold the same values, to the bit. */
function assertSameState(want: tf.Variable[], got: tf.Variable[], when: string): void {
  assertEquals(got.length, want.length);
  want.forEach((v, i) => {
    const [a, b] = [v.dataSync(), got[i].dataSync()];
    assert(a.every((value, j) => value === b[j]), `variable ${i} differs ${when}`);
  });
}
