/**
 * `deno task ufm`: the unconstrained feature model solved for each loss, with
 * the NC metrics of `src/metrics/` (NC1–NC4, equinorm), objective, gradient
 * norm and norms beside the global optimum from
 * the paper's reduction; plus FL-γ, LS-α and λ sweeps. Writes `ufm.json` and
 * one SVG per figure into `--out`.
 *
 *   deno task ufm                                  # K=10, d=32, n=50, all losses, sweeps
 *   deno task ufm --loss focal_loss --gamma 2 --no-sweep
 */
import { UserError } from "../src/errors.ts";
import { DEFAULT_LOSS_PARAMS, expandLossAbbreviation } from "../src/losses/names.ts";
import { joinPath, writeJsonAtomic } from "../src/io.ts";
import { writeFigures } from "../src/plot/mod.ts";
import {
  DEFAULT_SWEEPS,
  UFM_DEFAULTS,
  ufmExperiment,
  type UfmExperimentRecord,
  ufmLoss,
  ufmLossNames,
  type UfmOptions,
  type UfmResult,
  validateUfmOptions,
} from "../src/ufm/mod.ts";
import { defineFlags, type FlagValues, runTask } from "../src/cli.ts";

const D = UFM_DEFAULTS;
const SPECS = defineFlags([
  { name: "K", type: "int", default: D.K, help: "number of classes K (>= 2)" },
  { name: "d", type: "int", default: D.d, help: "feature dimension d (>= K - 1)" },
  { name: "n", type: "int", default: D.n, help: "samples per class n (>= 1)" },
  { name: "lambda-w", type: "number", default: D.lambdaW, help: "weight decay λ_W on W (> 0)" },
  { name: "lambda-h", type: "number", default: D.lambdaH, help: "weight decay λ_H on H (> 0)" },
  { name: "lambda-b", type: "number", default: D.lambdaB, help: "weight decay λ_b on b (> 0)" },
  { name: "loss", type: "list", default: ufmLossNames(), help: "comma-separated losses to solve" },
  { name: "gamma", type: "number", default: DEFAULT_LOSS_PARAMS.gamma, help: "focal-loss γ (>= 0)" },
  { name: "smoothing", type: "number", default: DEFAULT_LOSS_PARAMS.smoothing, help: "label-smoothing α in [0, 1)" },
  { name: "rescale", type: "number", default: DEFAULT_LOSS_PARAMS.rescale, help: "MSE target scale" },
  { name: "seed", type: "int", default: D.seed, help: "seed of the random start" },
  { name: "iters", type: "int", default: D.maxIters, help: "L-BFGS iteration cap" },
  { name: "grad-tol", type: "number", default: D.gradTol, help: "stop when ‖∇f‖ <= this" },
  { name: "init-scale", type: "number", default: D.initScale, help: "std of the random start's entries" },
  { name: "sweep", type: "boolean", default: true, help: "run the FL-γ, LS-α and λ sweeps" },
  { name: "sweep-gamma", type: "numbers", default: [...DEFAULT_SWEEPS.gammas], help: "FL γ values to sweep" },
  {
    name: "sweep-smoothing",
    type: "numbers",
    default: [...DEFAULT_SWEEPS.smoothings],
    help: "LS α values to sweep",
  },
  { name: "sweep-lambda", type: "numbers", default: [...DEFAULT_SWEEPS.lambdas], help: "λ values to sweep" },
  {
    name: "out",
    type: "path",
    expect: "folder",
    default: "runs/ufm",
    help: "output folder (ufm.json and SVG figures)",
  },
]);

function fmt(v: number, digits = 6): string {
  return Math.abs(v) >= 1e-3 && Math.abs(v) < 1e4 ? v.toFixed(digits) : v.toExponential(2);
}

function row(r: UfmResult): string[] {
  const ref = r.reference;
  return [
    r.options.loss,
    String(r.iters),
    r.stopReason,
    fmt(r.objective, 10),
    fmt(ref.objective, 10),
    r.gradNorm.toExponential(1),
    r.nc.nc1.toExponential(1),
    r.nc.nc2.toExponential(1),
    r.nc.nc3.toExponential(1),
    r.nc.nc4_bias.toExponential(1),
    r.nc.equinorm_means.toExponential(1),
    r.nc.equinorm_weights.toExponential(1),
    `${fmt(r.normW)} / ${fmt(ref.normW)}`,
    `${fmt(r.normH)} / ${fmt(ref.normH)}`,
    `${fmt(r.normB)} / ${fmt(ref.normB)}`,
    ref.method,
  ];
}

/** The solves the flags ask for: the base problem, the losses, and the sweeps' values (empty without `--sweep`). */
interface UfmSettings {
  base: UfmOptions;
  losses: string[];
  gammas: number[];
  smoothings: number[];
  lambdas: number[];
}

/** The settings of parsed flags, every loss parameter and sweep value checked before any work. */
function ufmSettings(v: FlagValues<typeof SPECS>): UfmSettings {
  const losses = v["loss"].map(expandLossAbbreviation); // ce, mse, fl, ls as in sweep
  if (losses.length === 0) throw new UserError("--loss: give at least one loss");
  const lossParams = {
    gamma: v["gamma"],
    smoothing: v["smoothing"],
    rescale: v["rescale"],
  };
  for (const l of losses) ufmLoss(l, lossParams); // unknown names and bad parameters fail here, before any work
  const base: UfmOptions = {
    ...UFM_DEFAULTS,
    K: v["K"],
    d: v["d"],
    n: v["n"],
    lambdaW: v["lambda-w"],
    lambdaH: v["lambda-h"],
    lambdaB: v["lambda-b"],
    lossParams,
    seed: v["seed"],
    maxIters: v["iters"],
    gradTol: v["grad-tol"],
    initScale: v["init-scale"],
  };
  validateUfmOptions(base);
  const sweep = v["sweep"];
  const gammas = sweep ? v["sweep-gamma"] : [];
  const smoothings = sweep ? v["sweep-smoothing"] : [];
  const lambdas = sweep ? v["sweep-lambda"] : [];
  for (const g of gammas) ufmLoss("focal_loss", { gamma: g });
  for (const a of smoothings) ufmLoss("label_smoothing", { smoothing: a });
  for (const l of lambdas) if (!(l > 0)) throw new UserError(`--sweep-lambda: values must be > 0, got ${l}`);
  return { base, losses, gammas, smoothings, lambdas };
}

/** The columns of the table of solves, one row per loss (`row`). */
const HEADER = [
  "loss",
  "iters",
  "stop",
  "f",
  "f* (reduced)",
  "‖∇f‖",
  "NC1",
  "NC2",
  "NC3",
  "NC4",
  "eqn μ",
  "eqn W",
  "‖W‖ / *",
  "‖H‖ / *",
  "‖b‖ / *",
  "* from",
];

/** Prints the table of solves with its legend, and one line per sweep. */
function printResults(rows: string[][], record: UfmExperimentRecord): void {
  const widths = HEADER.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  for (const r of [HEADER, ...rows]) console.log(r.map((c, i) => c.padEnd(widths[i])).join("  "));
  console.log("* = the global optimum from the reduction to the ETF scale: 'closed form (exact)' for MSE,");
  console.log("    '1-D reduction (numerical)' (bisection on the reduced derivative, to rounding) for CE/FL/LS.");
  console.log("NC4 = ‖Wμ_G + b‖; eqn μ, eqn W = equinorm (std/mean) of ‖μ_k − μ_G‖ and ‖w_k‖.");
  for (const [name, pts] of Object.entries(record.sweeps)) {
    if (pts.length === 0) continue;
    const worst = (k: "nc1" | "nc2" | "nc3"): string => Math.max(...pts.map((p) => p[k])).toExponential(1);
    const normErr = Math.max(...pts.map((p) => Math.abs(p.normW - p.referenceNormW) / p.referenceNormW));
    console.log(
      `sweep ${name}: ${pts.length} solves, max NC1 ${worst("nc1")}, NC2 ${worst("nc2")}, NC3 ${worst("nc3")}, ` +
        `max |‖W‖ − ‖W‖*|/‖W‖* ${normErr.toExponential(1)}`,
    );
  }
}

/** Solves the UFM for each loss (and the sweeps), prints the table and writes `ufm.json` and the figures. */
async function main(v: FlagValues<typeof SPECS>): Promise<void> {
  const settings = ufmSettings(v);
  const { base } = settings;
  console.log(
    `UFM: K=${base.K} d=${base.d} n=${base.n} λ_W=${base.lambdaW} λ_H=${base.lambdaH} λ_b=${base.lambdaB} ` +
      `seed=${base.seed}; L-BFGS (m=10, strong Wolfe) to ‖∇f‖ <= ${base.gradTol} or ${base.maxIters} iterations`,
  );
  const rows: string[][] = [];
  const record = ufmExperiment(settings, (r) => rows.push(row(r)));
  const bad = firstNonFinite(record);
  if (bad) {
    throw new UserError(
      `the UFM solves overflowed: ${bad} is not a finite number; the parameters (--rescale ${base.lossParams.rescale}, ` +
        `--lambda-*, --init-scale) are beyond what float64 can solve`,
    );
  }
  printResults(rows, record);

  const out = v["out"];
  await Deno.mkdir(out, { recursive: true });
  const jsonPath = joinPath(out, "ufm.json");
  const { losses, gammas, smoothings, lambdas } = settings;
  await writeJsonAtomic(jsonPath, { task: "ufm", config: { ...base, losses, gammas, smoothings, lambdas }, ...record });
  const svgs = await writeFigures(record.figures, out, "svg");
  console.log(`wrote ${jsonPath} and ${svgs.length} SVG figures in ${out} (${record.seconds.toFixed(1)} s of solving)`);
}

/** The path of the first NaN or ±Infinity in a JSON-bound value (which JSON would write as null), or null. */
function firstNonFinite(value: unknown, path = "ufm"): string | null {
  if (typeof value === "number") return Number.isFinite(value) ? null : `${path} = ${value}`;
  if (ArrayBuffer.isView(value)) return null; // parameter vectors are not written
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) {
      const bad = firstNonFinite(v, `${path}[${i}]`);
      if (bad) return bad;
    }
  } else if (typeof value === "object" && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      const bad = firstNonFinite(v, `${path}.${k}`);
      if (bad) return bad;
    }
  }
  return null;
}

if (import.meta.main) {
  await runTask("deno task ufm [flags]", SPECS, main);
}
