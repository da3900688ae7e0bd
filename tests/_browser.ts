/**
 * A headless Chromium for the dashboard's browser tests: Debian's `chromium`
 * (installed by `.ci/run`), driven by `puppeteer-core`, which never
 * downloads a browser of its own. Tests are ignored, with the reason, where
 * no Chromium is installed.
 */
import puppeteer, { type Browser } from "puppeteer-core";

const CANDIDATES = [Deno.env.get("CHROMIUM_PATH"), "/usr/bin/chromium", "/usr/bin/chromium-browser"];

function findChromium(): string | null {
  for (const path of CANDIDATES) {
    if (!path) continue;
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch { /* not here */ }
  }
  return null;
}

/** The Chromium binary, or `null`. */
export const CHROMIUM = findChromium();
/** `Deno.test`'s `ignore` for browser tests. */
export const ignoreBrowser = CHROMIUM === null;
/** Appended to a browser test's name: why it is ignored, or nothing. */
export const whyBrowser = CHROMIUM
  ? ""
  : " [ignored: no chromium; .ci/run installs Debian's (apt-get install chromium)]";

/**
 * Starts headless Chromium; `hostRules` maps host names to addresses
 * (`MAP rebind.test 127.0.0.1`), to reach the server under a foreign name.
 */
export async function launchBrowser(hostRules = ""): Promise<Browser> {
  if (!CHROMIUM) throw new Error("no chromium installed");
  return await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    pipe: true,
    args: [
      "--no-sandbox",
      "--headless=new",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--no-first-run",
      ...(hostRules ? [`--host-resolver-rules=${hostRules}`] : []),
    ],
  });
}
