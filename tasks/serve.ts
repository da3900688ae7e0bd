/**
 * `deno task serve`: a live, read-only dashboard of a runs folder (a sweep's,
 * a reproduction's, or a folder of single runs) in the browser: the run
 * table with states, progress and failure reasons, the figures of the
 * selected runs and the grid's heatmaps, updated as the runs train.
 *
 *   deno task serve                                  # runs/, on http://127.0.0.1:8000/
 *   deno task serve --runs-dir runs/reproduce --port 8080
 *   ssh -L 8000:localhost:8000 login-node            # then open http://localhost:8000/ here
 *
 * It listens on 127.0.0.1 only, which the task's permissions enforce too
 * (`--allow-net=127.0.0.1`); another `--host` needs `deno run` with its own
 * `--allow-net` (see docs/dashboard.md) and prints a warning.
 */
import { defineFlags, type FlagValues, runTask } from "../src/cli.ts";
import { UserError } from "../src/errors.ts";
import { startDashboard } from "../src/serve/server.ts";

const FLAGS = defineFlags([
  {
    name: "runs-dir",
    type: "path",
    expect: "folder",
    default: "runs",
    help: "the runs folder to show (a sweep's, a reproduction's, or any folder of runs)",
  },
  { name: "port", type: "int", min: 0, max: 65535, default: 8000, help: "port to listen on (0: any free one)" },
  {
    name: "host",
    type: "string",
    default: "127.0.0.1",
    help: "address to listen on (other than 127.0.0.1: a warning)",
  },
  {
    name: "poll-ms",
    type: "int",
    min: 100,
    max: 60000,
    default: 1000,
    help: "milliseconds between looks at the folder",
  },
]);

const LOOPBACK = new Set(["127.0.0.1", "::1"]);

/** Serves the dashboard of the runs folder until SIGINT or SIGTERM. */
async function main(values: FlagValues<typeof FLAGS>): Promise<void> {
  const runsDir = values["runs-dir"];
  const host = values.host;
  if (!LOOPBACK.has(host)) {
    console.error(
      `warning: --host ${host}: the dashboard is reachable from other machines, without authentication; ` +
        `anyone who can reach ${host} can read the runs folder's results. Prefer an SSH tunnel to 127.0.0.1.`,
    );
  }
  try {
    await Deno.stat(runsDir);
  } catch {
    throw new UserError(`--runs-dir ${runsDir}: no such folder`);
  }
  let dashboard;
  try {
    dashboard = await startDashboard({
      runsDir,
      hostname: host,
      port: values.port,
      pollMs: values["poll-ms"],
      onError: (e) => console.error(`warning: ${(e as Error).message}`),
    });
  } catch (e) {
    if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) {
      throw new UserError(
        `--host ${host} --port ${values.port}: not allowed to listen there (${(e as Error).message.split("\n")[0]}); ` +
          `'deno task serve' may listen on 127.0.0.1 only, see docs/dashboard.md for another address`,
      );
    }
    if (e instanceof Deno.errors.AddrInUse) throw new UserError(`--port ${values.port}: already in use`);
    throw e;
  }
  console.log(`serving ${runsDir} (read only) on ${dashboard.url}`);
  const stop = () => {
    void dashboard.close().then(() => Deno.exit(0));
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  await dashboard.finished;
}

if (import.meta.main) {
  await runTask("deno task serve [flags]", FLAGS, main);
}
