/**
 * The dashboard's defences, each a small pure function: which `Host` headers
 * it answers (DNS rebinding), the headers every response carries (a
 * Content-Security-Policy without inline script), and resolving a request
 * path to a file inside the runs folder (no `..`, no encoded separators, no
 * hidden files, no symbolic link out of it).
 *
 * @module
 */
import { isAbsolute, relative, resolve, sep } from "node:path";

/**
 * The `Host` header values the server answers: its own address and port, and
 * `localhost:<port>` when it listens on the loopback address. A page on
 * another name (a rebound DNS name pointing at 127.0.0.1) is refused.
 *
 * @example
 * ```ts
 * allowedHosts("127.0.0.1", 8000); // Set { "127.0.0.1:8000", "localhost:8000" }
 * ```
 */
export function allowedHosts(hostname: string, port: number): Set<string> {
  const name = hostname.includes(":") ? `[${hostname}]` : hostname;
  const hosts = new Set([`${name}:${port}`.toLowerCase()]);
  if (hostname === "127.0.0.1" || hostname === "::1") {
    hosts.add(`localhost:${port}`);
    hosts.add(`127.0.0.1:${port}`);
    hosts.add(`[::1]:${port}`);
  }
  return hosts;
}

/** The page's policy: scripts and everything else only from the server itself, no inline script, no framing. */
export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  // Observable Plot writes a <style> element into each chart it draws.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** Files of the runs folder (reports, their figures) are shown sandboxed: no script at all, whatever they hold. */
export const FILE_CSP = "default-src 'none'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; sandbox";

/** Headers of every response; `csp` is {@linkcode PAGE_CSP} unless given. */
export function securityHeaders(contentType: string, csp: string = PAGE_CSP): Headers {
  return new Headers({
    "content-type": contentType,
    "content-security-policy": csp,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-resource-policy": "same-origin",
    "cache-control": "no-store",
  });
}

/**
 * The absolute path of the file that the URL path `rawPath` (still
 * percent-encoded, e.g. `sweep/report.html`) names inside `rootReal` (the
 * runs folder's real path), or `null` when it does not name a regular file
 * inside it: a segment that is empty, `.`, `..` or hidden (`.lock`), that
 * decodes to a separator or a NUL, that is not valid percent-encoding, or a
 * file whose real path (symbolic links resolved) lies outside `rootReal`.
 *
 * @example
 * ```ts
 * await resolveInside("/data/runs", "sweep/report.html"); // "/data/runs/sweep/report.html"
 * await resolveInside("/data/runs", "%2e%2e/etc/passwd"); // null
 * ```
 */
export async function resolveInside(rootReal: string, rawPath: string): Promise<string | null> {
  const segments: string[] = [];
  for (const raw of rawPath.split("/")) {
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return null;
    }
    if (segment === "" || segment.startsWith(".") || /[\\/\0]/.test(segment)) return null;
    segments.push(segment);
  }
  if (segments.length === 0) return null;
  const candidate = resolve(rootReal, ...segments);
  if (!isInside(rootReal, candidate)) return null;
  let real: string;
  try {
    real = await Deno.realPath(candidate);
  } catch {
    return null;
  }
  if (!isInside(rootReal, real)) return null;
  try {
    return (await Deno.stat(real)).isFile ? real : null;
  } catch {
    return null;
  }
}

/** Whether `path` (absolute, normalised) lies strictly inside `root`. */
export function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== "" && !rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel);
}
