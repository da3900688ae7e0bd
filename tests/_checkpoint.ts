/**
 * Crafting checkpoints as an attacker would: the header JSON rewritten and
 * both checksums recomputed, so that only the reader's validation of the
 * header's content stands between the file and the run. Works on the bytes,
 * independently of the writer under test.
 */
import { crc32 } from "node:zlib";

/**
 * Rewrites the header of the format-2 checkpoint at `path`: `change` edits the
 * parsed header (its `meta`, `tensors`, …) in place; the payload is kept, the
 * header re-padded to a multiple of 4 and its CRC-32 recomputed.
 */
export async function rewriteCheckpointHeader(
  path: string,
  change: (header: { meta: Record<string, unknown> } & Record<string, unknown>) => void,
): Promise<void> {
  const bytes = await Deno.readFile(path);
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  if (new TextDecoder().decode(bytes.subarray(0, 8)) !== "NCLCKPT2") throw new Error(`${path}: not format 2`);
  const length = view.getUint32(8, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + length)));
  change(header);
  let text = JSON.stringify(header);
  text += " ".repeat((4 - ((16 + new TextEncoder().encode(text).length) % 4)) % 4);
  const h = new TextEncoder().encode(text);
  const payload = bytes.subarray(16 + length);
  const out = new Uint8Array(16 + h.length + payload.length);
  out.set(bytes.subarray(0, 8));
  new DataView(out.buffer).setUint32(8, h.length, true);
  new DataView(out.buffer).setUint32(12, crc32(h), true);
  out.set(h, 16);
  out.set(payload, 16 + h.length);
  await Deno.writeFile(path, out);
}

/** {@linkcode rewriteCheckpointHeader} on the meta only. */
export async function rewriteCheckpointMeta(
  path: string,
  change: (meta: Record<string, unknown>) => void,
): Promise<void> {
  await rewriteCheckpointHeader(path, (h) => change(h.meta));
}
