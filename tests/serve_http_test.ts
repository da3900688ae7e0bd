/**
 * The dashboard's HTTP surface (src/serve/server.ts) on a real socket: every
 * endpoint's answers and status codes, bad input, the `Host` check, paths out
 * of the runs folder (raw request targets, encoded variants, symbolic links),
 * the security headers, the event stream, and that serving changes nothing
 * in the runs folder.
 */
import { writeFileAtomic } from "../src/io.ts";
import { MAX_FIGURE_RUNS, startDashboard } from "../src/serve/server.ts";
import type { RunRow } from "../src/serve/run_index.ts";
import type { FigureSpec } from "../src/plot/types.ts";
import { assert, assertEquals, assertMatch } from "./_assert.ts";
import { HOSTILE_NAME, HOSTILE_REASON, makeRunsFolder, rawGet } from "./_serve_fixture.ts";
import { runTask } from "./_task.ts";

/** Every file under `dir` (links not followed) with its size and modification time. */
async function snapshot(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for await (const e of Deno.readDir(d)) {
      const p = `${d}/${e.name}`;
      const st = await Deno.lstat(p);
      out.push(`${p} ${st.size} ${st.mtime?.getTime()}`);
      if (e.isDirectory) await walk(p);
    }
  };
  await walk(dir);
  return out.sort();
}

Deno.test("serve: every endpoint, its status codes and bad input", async (t) => {
  const fx = await makeRunsFolder();
  const before = await snapshot(fx.root);
  const dashboard = await startDashboard({ runsDir: fx.root, port: 0, pollMs: 100 });
  const base = `http://127.0.0.1:${dashboard.port}`;
  const get = async (path: string, init?: RequestInit) => {
    const res = await fetch(`${base}${path}`, init);
    return { status: res.status, headers: res.headers, text: await res.text() };
  };
  try {
    await t.step("the page and its scripts, from the package, with a CSP that forbids inline script", async () => {
      const page = await get("/");
      assertEquals(page.status, 200);
      const csp = page.headers.get("content-security-policy") ?? "";
      const scriptSrc = csp.split(";").map((s) => s.trim()).find((s) => s.startsWith("script-src"));
      assertEquals(scriptSrc, "script-src 'self'");
      assertMatch(csp, /default-src 'none'/);
      assertEquals(page.headers.get("x-content-type-options"), "nosniff");
      assert(!/<script(?![^>]*\ssrc=)/.test(page.text), "the page has no inline script");
      for (const path of ["/static/style.css", "/vendor/d3.min.js", "/vendor/plot.umd.min.js"]) {
        assertEquals((await get(path)).status, 200, path);
      }
      const app = await get("/js/serve/browser/app.ts");
      assertEquals(app.status, 200);
      assertMatch(app.headers.get("content-type") ?? "", /^text\/javascript/);
      assert(!/^import type/m.test(app.text) && !/: HTMLElement/.test(app.text), "types are stripped");
      const options = await get("/js/plot/plot_options.ts");
      assertMatch(options.text, /export function plotOptions\(Plot\s*, spec\s*, frame\s*\)/);
      for (const path of ["/js/serve/server.ts", "/js/../deno.json", "/static/index.html.bak", "/nothing"]) {
        assertEquals((await get(path)).status, 404, path);
      }
    });

    await t.step("/api/runs lists every run with its state, a failure's reason, and the reports", async () => {
      const res = await get("/api/runs");
      assertEquals(res.status, 200);
      const data = JSON.parse(res.text) as { runs: RunRow[]; reports: string[] };
      const byId = new Map(data.runs.map((r) => [r.id, r]));
      assertEquals(byId.get(fx.evaluated)?.state, "evaluated");
      assertEquals(byId.get(fx.evaluated)?.epochDone, 2);
      assertEquals(byId.get(fx.failed)?.state, "failed");
      assertEquals(byId.get(fx.failed)?.reason, HOSTILE_REASON);
      assertEquals(byId.get(fx.pending)?.state, "pending", "a run the manifest lists without a folder");
      assertEquals(byId.get(HOSTILE_NAME)?.state, "training");
      assertEquals(data.runs.filter((r) => r.id.startsWith("grid/")).length, 8);
      assert(!data.runs.some((r) => r.id.includes("link-out")), "symbolic links are not followed");
      assertEquals(data.reports, ["report/report.html"]);
    });

    await t.step("/api/run: one known run, or 400 / 404", async () => {
      const ok = await get(`/api/run?id=${encodeURIComponent(fx.evaluated)}`);
      assertEquals(ok.status, 200);
      const data = JSON.parse(ok.text);
      assertEquals(data.log.map((r: { epoch: number }) => r.epoch), [1, 2]);
      assertEquals(data.config.loss, "cross_entropy");
      assertEquals((await get("/api/run")).status, 400);
      assertEquals((await get(`/api/run?id=${fx.evaluated}&id=${fx.failed}`)).status, 400);
      for (const id of ["nope", "../outside", "sweep/../sweep/mlp-1-ce-2-1", "x".repeat(5000)]) {
        assertEquals((await get(`/api/run?id=${encodeURIComponent(id)}`)).status, 404, id.slice(0, 40));
      }
    });

    await t.step("/api/figures: the log and NC figures of runs, overlaid; 400 / 404 for bad input", async () => {
      const one = JSON.parse((await get(`/api/figures?id=${encodeURIComponent(fx.evaluated)}`)).text) as {
        figures: FigureSpec[];
      };
      const names = one.figures.map((f) => f.name);
      assert(names.includes("log-loss") && names.includes("log-top1"), names.join(", "));
      assert(names.includes("synthetic-mlp-w1-e2-nc1"), names.join(", "));
      const two = JSON.parse(
        (await get(`/api/figures?id=${encodeURIComponent(fx.evaluated)}&id=${encodeURIComponent(fx.failed)}`)).text,
      ) as { figures: FigureSpec[] };
      const loss = two.figures.find((f) => f.name === "log-loss")!;
      assertEquals(loss.kind === "line" && loss.series.length, 4, "train and validation of both runs");
      assertEquals((await get("/api/figures")).status, 400);
      const many = Array.from({ length: MAX_FIGURE_RUNS + 1 }, () => `id=${encodeURIComponent(fx.evaluated)}`);
      assertEquals((await get(`/api/figures?${many.join("&")}`)).status, 400);
      assertEquals((await get(`/api/figures?id=${encodeURIComponent(fx.evaluated)}&id=nope`)).status, 404);
    });

    await t.step("/api/heatmaps: the grid figures and the missing grid points", async () => {
      const res = await get("/api/heatmaps");
      assertEquals(res.status, 200);
      const data = JSON.parse(res.text) as { figures: FigureSpec[]; missing: unknown[] };
      assert(data.figures.some((f) => f.kind === "heatmap"), "heatmaps of the grid");
      assert(Array.isArray(data.missing));
    });

    await t.step("/files: reports inside the runs folder, sandboxed; nothing outside it, however spelled", async () => {
      const report = await rawGet(dashboard.port, "/files/report/report.html");
      assertEquals(report.status, 200);
      assertMatch(report.headers.get("content-security-policy") ?? "", /sandbox/);
      assertEquals(
        (await rawGet(dashboard.port, "/files/report/figures/a.svg")).headers.get("content-type"),
        "image/svg+xml",
      );
      for (
        const target of [
          "/files/../outside/secret.html",
          "/files/../../etc/passwd",
          "/files/%2e%2e/outside/secret.html",
          "/files/%2E%2E/%2E%2E/etc/hosts.html",
          "/files/report%2f..%2f..%2foutside%2fsecret.html",
          "/files/report/..%2f..%2foutside/secret.html",
          "/files/report/%5c..%5c..%5coutside%5csecret.html",
          "/files/link-out/secret.html",
          "/files/report/secret.html",
          "/files/.hidden.html",
          "/files/%2ehidden.html",
          "/files/report/notes.txt",
          "/files/report/%zz.html",
          "/files/report/a%00.html",
          "/files/",
          "/files//etc/passwd",
        ]
      ) {
        const res = await rawGet(dashboard.port, target);
        assert(res.status === 404 || res.status === 400, `${target}: ${res.status}`);
        assert(!res.body.includes("secret") && !res.body.includes("root:"), `${target} leaked ${res.body}`);
      }
    });

    await t.step("a foreign Host header is refused before anything else (DNS rebinding)", async () => {
      for (
        const host of ["evil.example", `evil.example:${dashboard.port}`, "127.0.0.1:1", `127.0.0.2:${dashboard.port}`]
      ) {
        for (const path of ["/", "/api/runs", "/files/report/report.html"]) {
          const res = await rawGet(dashboard.port, path, host);
          assertEquals(res.status, 403, `${host} ${path}`);
          assert(!res.body.includes("mlp-1"), "nothing of the runs");
        }
      }
      assertEquals((await rawGet(dashboard.port, "/api/runs", `localhost:${dashboard.port}`)).status, 200);
    });

    await t.step("only GET and HEAD: every other method is refused", async () => {
      for (const method of ["POST", "PUT", "DELETE", "PATCH"]) {
        const res = await get("/api/runs", { method, body: method === "DELETE" ? undefined : "{}" });
        assertEquals(res.status, 405, method);
        assertEquals(res.headers.get("allow"), "GET, HEAD");
      }
      const head = await fetch(`${base}/api/runs`, { method: "HEAD" });
      assertEquals([head.status, await head.text()], [200, ""]);
    });

    await t.step("/api/events pushes a changed row when a log grows", async () => {
      const res = await fetch(`${base}/api/events`);
      assertEquals(res.status, 200);
      assertMatch(res.headers.get("content-type") ?? "", /^text\/event-stream/);
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
      let text = "";
      const until = async (needle: string) => {
        const give = Date.now() + 10000;
        while (!text.includes(needle)) {
          if (Date.now() > give) throw new Error(`no ${needle} in ${text}`);
          const { value, done } = await reader.read();
          if (done) throw new Error(`stream ended: ${text}`);
          text += value;
        }
      };
      await until("event: hello");
      const log = `${fx.root}/${fx.failed}/log.jsonl`;
      const lines = await Deno.readTextFile(log);
      await writeFileAtomic(log, lines + lines.replace('"epoch":1', '"epoch":2'));
      await until('"epochDone":2');
      const event = text.split("\n\n").find((e) => e.includes('"epochDone":2'))!;
      const data = JSON.parse(event.split("\n").find((l) => l.startsWith("data: "))!.slice(6));
      assertEquals(data.changed.map((r: RunRow) => r.id), [fx.failed]);
      await reader.cancel();
    });

    await t.step("serving changed nothing in the runs folder", async () => {
      // The one change is the test's own rewrite of a log above.
      const untouched = (l: string) => !/mlp-1-mse-2-1(\/log\.jsonl)? /.test(l);
      assertEquals((await snapshot(fx.root)).filter(untouched), before.filter(untouched));
    });
  } finally {
    await dashboard.close();
    await fx.remove();
  }
});

Deno.test("serve: the dashboard's code has no way to write, delete, lock or start anything", async () => {
  const dir = new URL("../src/serve/", import.meta.url).pathname;
  const forbidden = new RegExp(
    "Deno\\.(write|remove|mkdir|rename|truncate|symlink|link|chmod|chown|utime|Command|run|kill|makeTemp|create)|" +
      "writeFileAtomic|writeJsonAtomic|acquireLock|withLock|tryLock|(write|create|append|truncate): true|node:fs|node:child",
  );
  const walk = async (d: string): Promise<string[]> => {
    const files: string[] = [];
    for await (const e of Deno.readDir(d)) {
      if (e.isDirectory) files.push(...await walk(`${d}${e.name}/`));
      else if (e.name.endsWith(".ts")) files.push(`${d}${e.name}`);
    }
    return files;
  };
  for (const file of await walk(dir)) {
    const code = (await Deno.readTextFile(file)).split("\n").filter((l) => !/^\s*(\*|\/\/)/.test(l));
    const hit = code.find((l) => forbidden.test(l));
    assertEquals(hit, undefined, `${file}: ${hit}`);
  }
});

Deno.test("serve task: --host other than 127.0.0.1 warns, and the task's permissions keep it on 127.0.0.1", async () => {
  const fx = await makeRunsFolder();
  try {
    const out = await runTask("serve", ["--runs-dir", fx.root, "--host", "0.0.0.0", "--port", "0"]);
    assertEquals(out.code, 2, out.stderr);
    const lines = out.stderr.trim().split("\n");
    assertMatch(lines[0], /^warning: --host 0\.0\.0\.0: the dashboard is reachable from other machines/);
    assertMatch(lines[1], /^error: --host 0\.0\.0\.0 --port 0: not allowed to listen there/);
    const missing = await runTask("serve", ["--runs-dir", `${fx.root}/nope`, "--port", "0"]);
    assertEquals(missing.code, 2);
    assertMatch(missing.stderr, /^error: --runs-dir .*nope: no such folder\n$/);
  } finally {
    await fx.remove();
  }
});
