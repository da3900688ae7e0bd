/// <reference lib="dom" />
/**
 * The dashboard in a real headless Chromium: a sweep seen live (epochs rising,
 * a figure appearing, a run ending evaluated, a killed run failing with its
 * reason, all without a reload), and the hostile cases failing closed in the
 * browser (markup in a run folder's name and in a failure reason runs no
 * script; a foreign host name is refused).
 *
 * `DASHBOARD_SCREENSHOT=path` saves the page during the sweep.
 */
import type { Page } from "puppeteer-core";
import { startDashboard } from "../src/serve/server.ts";
import { assert, assertEquals, assertMatch } from "./_assert.ts";
import { ignoreBrowser, launchBrowser, whyBrowser } from "./_browser.ts";
import { HOSTILE_NAME, HOSTILE_REASON, makeRunsFolder } from "./_serve_fixture.ts";
import { startSweep, tinyGrid, waitFor } from "./_sweep_helpers.ts";

/** Records what would show that script ran: dialogs, page errors, console errors. */
function watch(page: Page): string[] {
  const problems: string[] = [];
  page.on("dialog", (d) => {
    problems.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e}`));
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console: ${m.text()}`);
  });
  return problems;
}

/** The text of a cell of the run table, or `null` while the row is not there. */
async function cell(page: Page, id: string, column: string): Promise<string | null> {
  return await page.evaluate(
    (id: string, column: string) => {
      const tr = [...document.querySelectorAll<HTMLTableRowElement>("#runs tbody tr")].find((r) => r.dataset.id === id);
      return tr?.querySelector(`td[data-col="${column}"]`)?.textContent ?? null;
    },
    id,
    column,
  );
}

async function clickRow(page: Page, id: string): Promise<void> {
  await page.evaluate((id: string) => {
    const tr = [...document.querySelectorAll<HTMLTableRowElement>("#runs tbody tr")].find((r) => r.dataset.id === id);
    tr?.querySelector<HTMLElement>('td[data-col="name"]')?.click();
  }, id);
}

Deno.test({
  name: `browser: hostile run names and reasons run no script; a foreign host name is refused${whyBrowser}`,
  ignore: ignoreBrowser,
  async fn() {
    const fx = await makeRunsFolder();
    const dashboard = await startDashboard({ runsDir: fx.root, port: 0, pollMs: 200 });
    const browser = await launchBrowser(`MAP rebind.test 127.0.0.1`);
    try {
      const page = await browser.newPage();
      const problems = watch(page);
      await page.goto(dashboard.url);
      await page.waitForSelector("#runs tbody tr[data-id]");
      await waitFor("the hostile run's row", () => cell(page, HOSTILE_NAME, "name"), 20);
      assertEquals(await cell(page, HOSTILE_NAME, "name"), HOSTILE_NAME, "the name is shown as text");
      assertMatch((await cell(page, fx.failed, "note"))!, /diverged <img src=x onerror=window\.pwned=1> at epoch 2/);
      // Show the hostile run's settings (its config holds the reason too) and the failed run's reason.
      await clickRow(page, HOSTILE_NAME);
      await page.waitForFunction((name: string) => document.querySelector("#details h2")?.textContent === name, {
        timeout: 20000,
      }, HOSTILE_NAME);
      await clickRow(page, fx.failed);
      await page.waitForFunction(
        (reason: string) => document.querySelector("#details .reason")?.textContent?.includes(reason),
        { timeout: 20000 },
        HOSTILE_REASON,
      );
      await new Promise((r) => setTimeout(r, 500));
      const injected = await page.evaluate(() => ({
        pwned: (globalThis as unknown as { pwned?: unknown }).pwned ?? null,
        images: document.querySelectorAll('img[src="x"], [onerror]').length,
      }));
      assertEquals(injected, { pwned: null, images: 0 });
      assertEquals(problems, []);

      // The same server under another name (DNS rebinding) answers nothing but 403.
      const rebound = await browser.newPage();
      const response = await rebound.goto(`http://rebind.test:${dashboard.port}/`);
      assertEquals(response?.status(), 403);
      assertEquals(await rebound.evaluate(() => document.querySelectorAll("#runs").length), 0);
      const api = await rebound.goto(`http://rebind.test:${dashboard.port}/api/runs`);
      assertEquals(api?.status(), 403);
      assert(!(await rebound.content()).includes("mlp-1"), "no run data under a foreign name");
    } finally {
      await browser.close();
      await dashboard.close();
      await fx.remove();
    }
  },
});

/** The process of `sweepPid`'s children whose command line trains `run`. */
async function trainerOf(sweepPid: number, run: string): Promise<number | null> {
  const out = await new Deno.Command("ps", { args: ["-o", "pid=,args=", "--ppid", String(sweepPid)], stdout: "piped" })
    .output();
  const line = new TextDecoder().decode(out.stdout).split("\n").find((l) => l.includes("train.ts") && l.includes(run));
  return line ? Number(line.trim().split(/\s+/)[0]) : null;
}

Deno.test({
  name: `browser: a sweep seen live, epochs rising, figures appearing, evaluated and failed runs${whyBrowser}`,
  ignore: ignoreBrowser,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "serve-sweep-" });
    const dashboard = await startDashboard({ runsDir: root, port: 0, pollMs: 250 });
    const browser = await launchBrowser();
    const epochs = 16;
    const ce = `mlp-1-ce-${epochs}-1`;
    const mse = `mlp-1-mse-${epochs}-1`;
    const grid = tinyGrid({ losses: "ce,mse", epochs, perClass: 300, saveInterval: 4 });
    let sweep: Deno.ChildProcess | null = null;
    try {
      const page = await browser.newPage();
      await page.setViewport({ width: 1500, height: 1000 });
      const problems = watch(page);
      await page.goto(dashboard.url);
      await page.waitForSelector("#status.live");
      // Set once: a reload would clear it.
      await page.evaluate(() => (globalThis as unknown as { loadedOnce: boolean }).loadedOnce = true);

      sweep = await startSweep(["--runs-dir", root, ...grid, "--jobs", "2"]);
      const epochOf = async (id: string) => Number((await cell(page, id, "progress"))?.split(" / ")[0] ?? -1);
      const first = await waitFor(
        "the CE run's first epoch in the table",
        async () => {
          const e = await epochOf(ce);
          return e >= 1 && e < epochs ? e : null;
        },
        120,
        100,
      );
      assertEquals(await cell(page, ce, "state"), "training");
      await clickRow(page, ce);
      await page.waitForSelector('#figures figure[data-figure="log-loss"] svg', { timeout: 30000 });
      await waitFor("the CE run's epoch count to rise", async () => (await epochOf(ce)) > first, 60, 100);

      // A run killed mid-training (as by the out-of-memory killer) fails, with its reason in the table.
      const trainer = await waitFor("the MSE run's trainer", () => trainerOf(sweep!.pid, mse), 60);
      await waitFor("the MSE run to log an epoch", async () => (await epochOf(mse)) >= 1, 60, 100);
      Deno.kill(trainer, "SIGKILL");
      await waitFor("the MSE run to show as failed", async () => (await cell(page, mse, "state")) === "failed", 60);
      assertMatch((await cell(page, mse, "note"))!, /train: killed by SIGKILL/);

      const shot = Deno.env.get("DASHBOARD_SCREENSHOT");
      if (shot) {
        await waitFor("an epoch or two more", async () => (await epochOf(ce)) >= Math.min(epochs - 2, 10), 60, 100);
        await new Promise((r) => setTimeout(r, 600));
        await page.screenshot({ path: shot as `${string}.png`, fullPage: true });
      }

      await waitFor(
        "the CE run to show as evaluated",
        async () => (await cell(page, ce, "state")) === "evaluated",
        120,
      );
      assertMatch((await cell(page, ce, "test"))!, /^\d+\.\d$/);
      // The selected run's NC figures appear once it is evaluated, still without a reload.
      await page.waitForSelector(`#figures figure[data-figure$="-nc1"] svg`, { timeout: 30000 });
      await page.waitForSelector("#grid:not([hidden]) #heatmaps figure svg", { timeout: 30000 });
      assert(await page.evaluate(() => (globalThis as unknown as { loadedOnce?: boolean }).loadedOnce === true));
      assertEquals(problems, []);
      await sweep.status;
      sweep = null;
    } finally {
      if (sweep) {
        sweep.kill("SIGTERM");
        await sweep.status;
      }
      await browser.close();
      await dashboard.close();
      await Deno.remove(root, { recursive: true });
    }
  },
});
