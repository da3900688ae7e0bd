/**
 * Fetches a CIFAR binary archive from its official location, checks the
 * published MD5, and unpacks it under the dataset root. Unpacking is atomic:
 * the archive is extracted into a temporary folder inside the root, then its
 * top-level folder is renamed into place, so an interrupted download never
 * leaves a half-filled `cifar-10-batches-bin/` that would look complete.
 */
import { UserError } from "../errors.ts";
import { exists, joinPath } from "../io.ts";
import { gunzipIfNeeded, hexDigest } from "./_files.ts";
import { readTar } from "./_tar.ts";
import { CIFAR_LAYOUTS, cifarFiles, type CifarName, cifarPresent } from "./cifar.ts";

/** Overrides for {@linkcode downloadCifar}, used by tests (a `file://` archive and its MD5). */
export interface DownloadOptions {
  /** Archive location; default the official URL. */
  url?: string;
  /** Expected MD5 of the archive; default the published one. */
  md5?: string;
  /** The `fetch` to use; default the global one. */
  fetch?: typeof fetch;
}

/**
 * Makes sure `name`'s binary files are under `root`, downloading and
 * unpacking the official archive if they are not. Returns the files' paths.
 * A failed download, an MD5 mismatch or a folder that exists but lacks files
 * is a {@linkcode UserError}.
 *
 * @example
 * ```ts
 * await downloadCifar("cifar10", "../data/"); // → ../data/cifar-10-batches-bin/*.bin
 * ```
 */
export async function downloadCifar(name: CifarName, root: string, options: DownloadOptions = {}): Promise<string[]> {
  const layout = CIFAR_LAYOUTS[name];
  const files = cifarFiles(name, root);
  if (await cifarPresent(name, root)) return files;
  const target = joinPath(root, layout.folder);
  if (await exists(target)) {
    throw new UserError(`${name}: ${target} exists but lacks some of its files; remove it and rerun with --download`);
  }

  const url = options.url ?? layout.url;
  const archive = await fetchBytes(url, options.fetch ?? fetch);
  const md5 = hexDigest("md5", archive);
  const expected = options.md5 ?? layout.md5;
  if (md5 !== expected) {
    throw new UserError(`${url}: MD5 mismatch (got ${md5}, expected ${expected}); the download is corrupt, try again`);
  }
  const entries = readTar(gunzipIfNeeded(archive, url), url);

  await Deno.mkdir(root, { recursive: true });
  const tmp = await Deno.makeTempDir({ dir: root, prefix: `.download-${name}-` });
  try {
    for (const e of entries) {
      const path = joinPath(tmp, e.path);
      if (e.type === "directory") {
        await Deno.mkdir(path, { recursive: true });
      } else {
        await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
        await Deno.writeFile(path, e.data);
      }
    }
    const unpacked = joinPath(tmp, layout.folder);
    for (const f of [...layout.trainFiles, ...layout.testFiles]) {
      if (!await exists(joinPath(unpacked, f))) throw new UserError(`${url}: archive lacks ${layout.folder}/${f}`);
    }
    await Deno.rename(unpacked, target);
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
  return files;
}

async function fetchBytes(url: string, fetchFn: typeof fetch): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetchFn(url);
  } catch (e) {
    throw new UserError(`cannot download ${url}: ${(e as Error).message}`);
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new UserError(`cannot download ${url}: HTTP ${response.status} ${response.statusText}`);
  }
  return new Uint8Array(await response.arrayBuffer());
}
