/** The float64 UFM losses: known values, stability at extreme logits, gradients against finite differences. */
import { assert, assertClose, assertEquals, assertThrows } from "./_assert.ts";
import { UserError } from "../src/errors.ts";
import { Rng } from "../src/rng.ts";
import { ufmLoss, ufmLossNames } from "../src/ufm/mod.ts";

const PAPER_LOSSES = ["cross_entropy", "mean_square_error", "focal_loss", "label_smoothing"];

Deno.test("ufm losses: the paper's four are registered", () => {
  for (const name of PAPER_LOSSES) assert(ufmLossNames().includes(name), name);
});

Deno.test("ufm losses: the abbreviations of sweep and run names (ce, mse, fl, ls) name the same losses", () => {
  const z = new Float64Array([1.5, -0.3, 0.2, 2.0]);
  const pairs = [["ce", "cross_entropy"], ["MSE", "mean_square_error"], ["fl", "focal_loss"], [
    "ls",
    "label_smoothing",
  ]];
  for (const [short, full] of pairs) {
    const p = { gamma: 2, smoothing: 0.2, rescale: 3 };
    assertEquals(ufmLoss(short, p).sample(z, 0, 4, 1, null), ufmLoss(full, p).sample(z, 0, 4, 1, null), short);
  }
  assertThrows(
    () => ufmLoss("xe"),
    UserError,
    /unknown loss 'xe'.*\(or ce, mse, fl, ls\)/,
  );
});

Deno.test("ufm losses: values at zero logits", () => {
  const K = 5;
  const z = new Float64Array(K);
  assertClose(ufmLoss("cross_entropy").sample(z, 0, K, 2, null), Math.log(K), { rel: 1e-15, floor: 1 }, "CE");
  assertClose(ufmLoss("label_smoothing", { smoothing: 0.3 }).sample(z, 0, K, 2, null), Math.log(K), {
    rel: 1e-15,
    floor: 1,
  }, "LS");
  assertClose(ufmLoss("focal_loss", { gamma: 3 }).sample(z, 0, K, 2, null), (1 - 1 / K) ** 3 * Math.log(K), {
    rel: 1e-15,
    floor: 1,
  }, "FL");
  assertClose(
    ufmLoss("mean_square_error", { rescale: 15 }).sample(z, 0, K, 2, null),
    225 / K,
    { rel: 1e-15, floor: 1 },
    "MSE",
  );
});

Deno.test("ufm losses: definitions on a generic point", () => {
  const z = new Float64Array([1.5, -0.3, 0.2, 2.0]);
  const K = 4, y = 1;
  const lse = Math.log(z.reduce((s, v) => s + Math.exp(v), 0));
  const logp = Array.from(z, (v) => v - lse);
  const py = Math.exp(logp[y]);
  assertClose(ufmLoss("cross_entropy").sample(z, 0, K, y, null), -logp[y], { rel: 1e-14, floor: 1 }, "CE");
  assertClose(ufmLoss("focal_loss", { gamma: 2 }).sample(z, 0, K, y, null), -((1 - py) ** 2) * logp[y], {
    rel: 1e-14,
    floor: 1,
  }, "FL");
  const a = 0.1;
  const ls = (1 - a) * -logp[y] + a * logp.reduce((s, v) => s - v, 0) / K;
  assertClose(
    ufmLoss("label_smoothing", { smoothing: a }).sample(z, 0, K, y, null),
    ls,
    { rel: 1e-14, floor: 1 },
    "LS",
  );
  const mse = Array.from(z, (v, k) => (v - (k === y ? 15 : 0)) ** 2).reduce((s, v) => s + v, 0) / K;
  assertClose(ufmLoss("mean_square_error").sample(z, 0, K, y, null), mse, { rel: 1e-14, floor: 1 }, "MSE");
  // FL with γ = 0 and LS with α = 0 are CE.
  assertClose(
    ufmLoss("focal_loss", { gamma: 0 }).sample(z, 0, K, y, null),
    -logp[y],
    { rel: 1e-14, floor: 1 },
    "FL γ=0",
  );
  assertClose(
    ufmLoss("label_smoothing", { smoothing: 0 }).sample(z, 0, K, y, null),
    -logp[y],
    { rel: 1e-14, floor: 1 },
    "LS α=0",
  );
});

Deno.test("ufm losses: no NaN or infinity at logits of ±100 and ±1e4", () => {
  for (const name of PAPER_LOSSES) {
    const loss = ufmLoss(name, { gamma: 0.5 });
    for (const big of [100, 1e4]) {
      const z = new Float64Array([big, -big, 0]);
      for (let y = 0; y < 3; y++) {
        const g = new Float64Array(3);
        const v = loss.sample(z, 0, 3, y, g);
        assert(Number.isFinite(v), `${name} y=${y} ±${big}: value ${v}`);
        for (const gk of g) assert(Number.isFinite(gk), `${name} y=${y} ±${big}: gradient ${g}`);
      }
    }
  }
  // The correct class far ahead: CE keeps its digits (e^{-200}) instead of rounding to 0 − 0.
  const ce = ufmLoss("cross_entropy").sample(new Float64Array([100, -100, -100]), 0, 3, 0, null);
  assertClose(ce, 2 * Math.exp(-200), { rel: 1e-12, floor: 1 }, "CE tail");
  assert(ce > 0);
  assertClose(ufmLoss("cross_entropy").sample(new Float64Array([100, -100, 0]), 0, 3, 1, null), 200, {
    rel: 1e-12,
    floor: 1,
  }, "CE wrong");
});

Deno.test("ufm losses: gradient matches central finite differences (float64)", () => {
  const rng = new Rng(7);
  const K = 6;
  const cases: [string, Record<string, number>][] = [
    ["cross_entropy", {}],
    ["mean_square_error", { rescale: 15 }],
    ["focal_loss", { gamma: 3 }],
    ["focal_loss", { gamma: 0.5 }],
    ["label_smoothing", { smoothing: 0.05 }],
    ["label_smoothing", { smoothing: 0.4 }],
  ];
  for (const [name, params] of cases) {
    const loss = ufmLoss(name, params);
    for (let trial = 0; trial < 5; trial++) {
      const z = new Float64Array(K);
      for (let k = 0; k < K; k++) z[k] = 3 * rng.normal();
      const y = rng.int(K);
      const g = new Float64Array(K);
      loss.sample(z, 0, K, y, g);
      for (let k = 0; k < K; k++) {
        const h = 1e-5;
        const zp = Float64Array.from(z), zm = Float64Array.from(z);
        zp[k] += h;
        zm[k] -= h;
        const fd = (loss.sample(zp, 0, K, y, null) - loss.sample(zm, 0, K, y, null)) / (2 * h);
        assert(
          Math.abs(fd - g[k]) < 1e-8 * Math.max(1, Math.abs(fd)),
          `${name} ${JSON.stringify(params)}: ∂/∂z_${k} ${g[k]} vs ${fd}`,
        );
      }
    }
  }
});

Deno.test("ufm losses: unknown names and bad parameters are UserErrors naming the flag", () => {
  assertThrows(
    () => ufmLoss("hinge"),
    UserError,
    /--loss: unknown loss 'hinge'/,
  );
  assertThrows(
    () => ufmLoss("focal_loss", { gamma: -1 }),
    UserError,
    /--gamma/,
  );
  assertThrows(
    () => ufmLoss("label_smoothing", { smoothing: 1 }),
    UserError,
    /--smoothing/,
  );
  assertThrows(
    () => ufmLoss("mean_square_error", { rescale: 0 }),
    UserError,
    /--rescale/,
  );
});
