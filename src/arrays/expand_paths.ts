/**
 * File lists as users type them: paths, comma lists (split by the flag
 * parser) and globs in the file-name part (`feats_*.npy`, `rank?.npz:h`).
 *
 * @module
 */
import { UserError } from "../errors.ts";

/**
 * Expands each entry: a path is kept, a glob (`*`, `?` or `[…]` in its last
 * component) becomes its matches in natural order (`shard2` before
 * `shard10`). A `:key` suffix after `.npz` is kept on every match. A glob
 * matching nothing is a UserError naming `flag`.
 *
 * @example
 * ```ts
 * await expandPaths(["/data/feats_*.npy"], "--features"); // ["/data/feats_0.npy", "/data/feats_1.npy"]
 * ```
 */
export async function expandPaths(entries: string[], flag: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of entries) {
    const m = /^(.*\.npz)(:[^/:]+)$/i.exec(entry);
    const [path, suffix] = m === null ? [entry, ""] : [m[1], m[2]];
    const slash = path.lastIndexOf("/");
    const dir = slash < 0 ? "." : path.slice(0, slash) || "/";
    const base = path.slice(slash + 1);
    if (/[*?]/.test(dir)) throw new UserError(`${flag} ${entry}: wildcards only in the file name, not in folders`);
    if (!/[*?[]/.test(base)) {
      out.push(entry);
      continue;
    }
    const pattern = globToRegExp(base);
    const matches: string[] = [];
    try {
      for await (const e of Deno.readDir(dir)) {
        if ((e.isFile || e.isSymlink) && pattern.test(e.name)) matches.push(e.name);
      }
    } catch (e) {
      throw new UserError(`${flag} ${entry}: cannot list ${dir} (${(e as Error).message})`);
    }
    if (matches.length === 0) throw new UserError(`${flag} ${entry}: no file matches`);
    matches.sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
    for (const name of matches) out.push(`${dir === "/" ? "" : dir}/${name}${suffix}`);
  }
  return out;
}

function globToRegExp(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const end = glob.indexOf("]", i + 2);
      if (end < 0) re += "\\[";
      else {
        const body = glob.slice(i + 1, end).replace(/\\/g, "\\\\");
        re += body.startsWith("!") ? `[^${body.slice(1)}]` : `[${body}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}
