/**
 * `deno task reproduce`: the paper's experiment at laptop scale, end to end,
 * on the Fashion-MNIST subset that ships with the repository (no download, no
 * dataset root): the `small` sweep (every loss, two training lengths) trained
 * and evaluated, then the dynamics and grid figures, the report, and a check
 * of the paper's claims on these runs, printed as a PASS/FAIL table and put in
 * the report; then the paper's theory: the unconstrained feature model solved
 * for every loss at its defaults (`deno task ufm`), also in the report.
 * Exits 1 when a claim fails.
 *
 * `--preset medium` runs the paper's main result instead: a 4 × 4 width ×
 * training-length grid with several seeds (docs/medium-preset.md), decided
 * by the preset's pre-registered claims (two trend contrasts and an
 * equivalence test, for the best-validation checkpoint and the last epoch;
 * docs/statistics.md): PASS, FAIL, or INCONCLUSIVE when the seeds cannot
 * decide; it exits 1 when a claim fails, not when one is inconclusive.
 *
 *   deno task reproduce                     # runs/reproduce/{runs,figures,report.html,report.md}
 *   deno task reproduce --preset medium     # runs/reproduce-medium/…, under an hour on 2 cores
 *   deno task reproduce --out runs/repro2 --jobs 1
 *   deno task reproduce --executor slurm --partition cpu --time 1:00:00   # the runs as a job array, the rest after it
 */
import { joinPath } from "../src/io.ts";
import {
  buildReport,
  dynamicsFigures,
  heatmapFigures,
  type ReportSection,
  selectRuns,
  writeFigures,
  writeReport,
} from "../src/plot/mod.ts";
import {
  checkClaims,
  checkReproduction,
  type ClaimCheck,
  claimsOf,
  claimsTablesMarkdown,
  differenceMessage,
  NC1_RATIO_LIMIT,
  reproductionMarkdown,
  reproductionTable,
  type SlurmOptions,
  type SweepConfig,
  sweepPreset,
  sweepRunsOnly,
} from "../src/sweep/mod.ts";
import type { RunRecord } from "../src/plot/mod.ts";
import { DEFAULT_SWEEPS, UFM_DEFAULTS, ufmExperimentInWorker, ufmReportSection } from "../src/ufm/mod.ts";
import { LOSS_NAMES } from "../src/losses/mod.ts";
import { writeJsonAtomic } from "../src/io.ts";
import { loadNativeBackend } from "../src/backend/native.ts";
import { defineFlags, type FlagValues, runTask } from "../src/cli.ts";
import {
  executeSweep,
  EXECUTOR_FLAGS,
  RUN_FLAGS,
  slurmOptionsFromFlags,
  submitSweep,
  sweepRunSettings,
  taskCommand,
} from "../src/sweep/mod.ts";
import { formatDuration } from "./_progress.ts";
import { printSubmission, sweepProgress } from "./_sweep_progress.ts";

/** What a reproduction preset checks and how its report introduces the checks. */
interface Reproduction {
  title: string;
  checks: (runs: readonly RunRecord[], config: SweepConfig) => ClaimCheck[];
  intro: (config: SweepConfig, runs: readonly RunRecord[]) => string;
  /** Tables shown after the checks, if any. */
  tables?: (runs: readonly RunRecord[]) => string;
}

const REPRODUCTION_PRESETS = ["small", "medium"] as const;

const REPRODUCTIONS: Record<typeof REPRODUCTION_PRESETS[number], Reproduction> = {
  small: {
    title: "Are all losses created equal? Small reproduction on Fashion-MNIST",
    checks: checkReproduction,
    intro: (config, runs) =>
      `The claims of the paper checked on the longest run of each loss (${Math.max(...config.epochs)} epochs, MLP on ${
        runs[0]?.info.run.dataset ?? config.dataset
      }): training accuracy reaches 100%; ` +
      `NC1 at the last epoch is at most ${NC1_RATIO_LIMIT} × its value after epoch 1; NC2 and NC3 end lower ` +
      `than after epoch 1. The spread of final test accuracy across losses is shown without a threshold.`,
  },
  medium: {
    title: "Are all losses created equal? The width × training-length trend on Fashion-MNIST",
    checks: (runs, config) => checkClaims(runs, claimsOf(config)),
    tables: claimsTablesMarkdown,
    intro: (config) => {
      const c = claimsOf(config);
      const cell = (g: { width: number; epochs: number }) => `width ${g.width}, ${g.epochs} epochs`;
      return `The paper's main result on seeds ${config.seeds.join(", ")} (MLP; widths ${config.widths.join(", ")}; ` +
        `${config.epochs.join(", ")} epochs), decided by the pre-registered claims of the preset for the ` +
        `best-validation checkpoint (the paper's) and for the last epoch (docs/statistics.md). In ` +
        `${cell(c.equivalence.cell)} every loss reaches 100% training accuracy and NC1 falls to at most ` +
        `${NC1_RATIO_LIMIT} × its epoch-1 value. The noise-corrected gap between losses Ĝ (mean over LS, FL, MSE ` +
        `of the squared mean difference from CE, less its noise) is larger in ${cell(c.widthContrast.from)} than ` +
        `in ${cell(c.widthContrast.to)} (width axis) and in ${cell(c.lengthContrast.from)} than in ` +
        `${cell(c.lengthContrast.to)} (length axis): one-sided seed-bootstrap tests, Holm-corrected over the two ` +
        `axes; PASS when the test rejects "no larger gap", FAIL when the reverse test rejects. In ` +
        `${cell(c.equivalence.cell)} every loss is within ±${c.equivalence.margin} point of CE by two one-sided ` +
        `tests (PASS: the 90% interval of the paired difference lies inside the margin; FAIL: wholly outside). ` +
        `INCONCLUSIVE: the seeds cannot decide the claim.`;
    },
  },
};

const FLAGS = defineFlags([
  {
    name: "preset",
    type: "choice",
    default: "small",
    choices: REPRODUCTION_PRESETS,
    help:
      "small: one seed, 2 × 2 grid, minutes; medium: a 4 × 4 width × length grid with several seeds and tested claims, ≤ 1 hour",
  },
  {
    name: "out",
    type: "path",
    expect: "folder",
    help: "output folder (runs/, figures/, report.*) (default: runs/reproduce, or runs/reproduce-<preset>)",
  },
  {
    name: "setup",
    type: "boolean",
    default: true,
    help: "with --backend auto, build the native backend first when it is missing (--no-setup: use what loads)",
  },
  ...RUN_FLAGS.map((s) => (s.name === "jobs" ? { ...s, default: 2 } : s)),
  ...EXECUTOR_FLAGS,
  {
    name: "report-only",
    type: "boolean",
    default: false,
    help: "(run by the Slurm report job) skip the sweep: figures, checks and report of the runs there",
  },
]);

/** Where a reproduction writes: the sweep folder `runs/`, the figures, the report. */
interface Paths {
  out: string;
  runsDir: string;
}

/** Submits the preset's runs as a Slurm job array, and after it this command with `--report-only`. */
async function submitReproduction(
  v: FlagValues<typeof FLAGS>,
  slurm: SlurmOptions,
  config: SweepConfig,
  { out, runsDir }: Paths,
): Promise<void> {
  const preset = v["preset"];
  // The runs as a job array; this same command with --report-only draws and checks once they have ended.
  const reportCommand = await taskCommand("reproduce", [
    "--preset",
    preset,
    "--out",
    out,
    "--report-only",
    "--no-setup",
  ]);
  const submitted = await submitSweep(runsDir, config, v, slurm, {
    dryRun: false,
    preset,
    task: "reproduce",
    reportCommand,
  });
  printSubmission(submitted, runsDir, slurm, false);
}

/**
 * The theory side, the UFM at its defaults (K = 10, d = 32, n = 50) for all
 * four losses and the sweeps, solving on a worker while the sweep trains (it
 * is independent of the runs).
 */
function startUfm(): ReturnType<typeof ufmExperimentInWorker> {
  const pending = ufmExperimentInWorker({
    base: { ...UFM_DEFAULTS },
    losses: [...LOSS_NAMES],
    ...DEFAULT_SWEEPS,
  });
  pending.catch(() => {}); // awaited later; a sweep that throws first must not leave it unhandled
  return pending;
}

/**
 * The evaluated runs of the preset's sweep; a grid point retrained by hand
 * with other settings is not this preset's run: left out, and said so.
 */
async function presetRuns(runsDir: string, config: SweepConfig): Promise<RunRecord[]> {
  // Figures and the report use whatever evaluated; a failed run shows up as a failed check.
  const found = await selectRuns({ roots: [runsDir] });
  const { kept, refused } = sweepRunsOnly(found, runsDir, config, sweepRunSettings(config));
  for (const d of refused) console.error(`note: left out: ${differenceMessage(d)}`);
  return kept;
}

/** The report's section of the claims checked: what is checked, the verdicts, and any tables. */
function checksSection(
  reproduction: Reproduction,
  config: SweepConfig,
  runs: readonly RunRecord[],
  checks: readonly ClaimCheck[],
): ReportSection {
  const failed = checks.filter((c) => c.verdict === "FAIL");
  const inconclusive = checks.filter((c) => c.verdict === "INCONCLUSIVE");
  return {
    title: "Reproduction checks",
    markdown: [
      reproduction.intro(config, runs),
      "",
      reproductionMarkdown(checks),
      "",
      failed.length > 0
        ? `**${failed.length} claim(s) failed.**`
        : inconclusive.length > 0
        ? `**No claim failed; ${inconclusive.length} inconclusive.**`
        : "**All claims hold.**",
      ...(reproduction.tables ? ["", reproduction.tables(runs)] : []),
    ].join("\n"),
  };
}

/** Writes the UFM's results to `<out>/ufm/ufm.json`, says how collapsed its optima are, and returns the largest NC metric. */
async function saveUfm(out: string, ufm: Awaited<ReturnType<typeof ufmExperimentInWorker>>): Promise<number> {
  await Deno.mkdir(joinPath(out, "ufm"), { recursive: true });
  await writeJsonAtomic(joinPath(out, "ufm", "ufm.json"), { task: "ufm", config: UFM_DEFAULTS, ...ufm });
  const worstUfm = Math.max(...ufm.runs.flatMap((r) => [r.nc.nc1, r.nc.nc2, r.nc.nc3]));
  console.log(
    `ufm: ${ufm.runs.length} losses solved at the UFM defaults, largest NC1/NC2/NC3 at the optimum ` +
      `${worstUfm.toExponential(1)} (${ufm.seconds.toFixed(1)} s)`,
  );
  return worstUfm;
}

/** Prints the verdict and exits 1 when a claim (or the UFM's collapse) fails. */
function reportVerdict(checks: readonly ClaimCheck[], worstUfm: number): void {
  const failed = checks.filter((c) => c.verdict === "FAIL");
  const inconclusive = checks.filter((c) => c.verdict === "INCONCLUSIVE");
  // The paper's theory: the UFM's global optimum is a Neural Collapse point for every loss.
  const ufmFails = worstUfm < 1e-4 ? 0 : 1;
  if (ufmFails) {
    console.log(`FAIL: the UFM optimum is not collapsed (largest NC metric ${worstUfm.toExponential(1)})`);
  }
  if (failed.length + ufmFails > 0) {
    console.log(`FAIL: ${failed.length + ufmFails} claim(s) do not hold`);
    Deno.exit(1);
  }
  if (inconclusive.length > 0) {
    console.log(`INCONCLUSIVE: no claim failed, ${inconclusive.length} undecided by the intervals`);
    return;
  }
  console.log("PASS: every claim holds");
}

/** Trains and evaluates the preset's sweep (or submits it), then draws, checks and reports. */
async function main(v: FlagValues<typeof FLAGS>): Promise<void> {
  const t0 = performance.now();
  const preset = v["preset"];
  const reproduction = REPRODUCTIONS[preset];
  const out = v["out"] ?? (preset === "small" ? "runs/reproduce" : `runs/reproduce-${preset}`);
  if (v["setup"] && v["backend"] === "auto") await ensureNativeBackend();
  const runsDir = joinPath(out, "runs");
  const config = sweepPreset(preset);
  const slurm = slurmOptionsFromFlags(v);
  if (slurm && !v["report-only"]) return await submitReproduction(v, slurm, config, { out, runsDir });
  const ufmPending = startUfm();
  const progress = sweepProgress(runsDir, config, v["jobs"]);
  const summary = v["report-only"] ? null : await executeSweep(runsDir, config, v, { preset, ...progress });
  if (summary) progress.end(summary);
  if (summary?.stoppedBy) Deno.exit(summary.stoppedBy === "SIGINT" ? 130 : 143);

  const runs = await presetRuns(runsDir, config);
  const figuresDir = joinPath(out, "figures");
  const paths = await writeFigures([...dynamicsFigures(runs), ...heatmapFigures(runs).figures], figuresDir, "svg");
  const checks = reproduction.checks(runs, config);
  const ufm = await ufmPending;
  const worstUfm = await saveUfm(out, ufm);
  const report = buildReport(runs, [checksSection(reproduction, config, runs, checks), ufmReportSection(ufm)], {
    title: reproduction.title,
  });
  const written = await writeReport(out, report);

  console.log(reproductionTable(checks));
  console.log(
    `\nreproduce: ${runs.length} runs (${summary?.failed.length ?? 0} failed), ${paths.length} figures in ` +
      `${figuresDir}, report ${written.html} and ${written.markdown}, in ${
        formatDuration((performance.now() - t0) / 1000)
      }`,
  );
  reportVerdict(checks, worstUfm);
}

/**
 * The small preset takes minutes on the native backend and several times
 * longer on WASM, so the one-command reproduction builds the native backend
 * first (`deno task setup`, about 25 s once) when it is not installed. If that
 * fails the runs fall back to the portable backends, and say so.
 */
async function ensureNativeBackend(): Promise<void> {
  const native = await loadNativeBackend();
  if (native.ok || !native.reason.includes("not installed")) return;
  console.log("reproduce: the native TensorFlow backend is not installed; running 'deno task setup' first");
  const config = new URL("../deno.json", import.meta.url).pathname;
  const status = await new Deno.Command(Deno.execPath(), { args: ["task", "--config", config, "setup"] }).spawn()
    .status;
  if (!status.success) {
    console.log(
      "reproduce: setup failed (see above); continuing on the portable backends, which is several times slower",
    );
  }
}

if (import.meta.main) {
  await runTask("deno task reproduce [--preset small|medium] [--out DIR] [--jobs N] [--backend B]", FLAGS, main);
}
