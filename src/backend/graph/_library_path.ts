/**
 * Where the TensorFlow C library that tfjs-node's binding links against lies:
 * read from the binding's ELF dynamic section (its `DT_NEEDED` entries and
 * its `DT_RUNPATH`/`DT_RPATH`, with `$ORIGIN` expanded), which is what the
 * dynamic loader used. Reading `/proc/self/maps` would be simpler but needs
 * Deno's `--allow-all`.
 */

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const DT_NEEDED = 1n;
const DT_STRTAB = 5n;
const DT_RPATH = 15n;
const DT_RUNPATH = 29n;

/** The `DT_NEEDED` names and the search path of a 64-bit little-endian ELF shared object. */
export function elfDynamicInfo(bytes: Uint8Array): { needed: string[]; runpath: string[] } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const isElf = bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46;
  if (!isElf || bytes[4] !== 2 || bytes[5] !== 1) throw new Error("not a 64-bit little-endian ELF file");
  const phoff = Number(view.getBigUint64(0x20, true));
  const phentsize = view.getUint16(0x36, true);
  const phnum = view.getUint16(0x38, true);
  const loads: { vaddr: bigint; offset: bigint; size: bigint }[] = [];
  let dynamic: { offset: number; size: number } | null = null;
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    const type = view.getUint32(at, true);
    const offset = view.getBigUint64(at + 8, true);
    const vaddr = view.getBigUint64(at + 16, true);
    const size = view.getBigUint64(at + 32, true);
    if (type === PT_LOAD) loads.push({ vaddr, offset, size });
    if (type === PT_DYNAMIC) dynamic = { offset: Number(offset), size: Number(size) };
  }
  if (dynamic === null) throw new Error("no dynamic section");
  const entries: [bigint, bigint][] = [];
  for (let at = dynamic.offset; at + 16 <= dynamic.offset + dynamic.size; at += 16) {
    const tag = view.getBigInt64(at, true);
    if (tag === 0n) break;
    entries.push([tag, view.getBigUint64(at + 8, true)]);
  }
  const strtabAddr = entries.find(([t]) => t === DT_STRTAB)?.[1];
  const segment = loads.find((s) => strtabAddr !== undefined && strtabAddr >= s.vaddr && strtabAddr < s.vaddr + s.size);
  if (strtabAddr === undefined || segment === undefined) throw new Error("no string table");
  const strtab = Number(strtabAddr - segment.vaddr + segment.offset);
  const text = (offset: bigint): string => {
    const start = strtab + Number(offset);
    const end = bytes.indexOf(0, start);
    return new TextDecoder().decode(bytes.subarray(start, end < 0 ? bytes.length : end));
  };
  const needed = entries.filter(([t]) => t === DT_NEEDED).map(([, v]) => text(v));
  const paths = entries.filter(([t]) => t === DT_RUNPATH || t === DT_RPATH).map(([, v]) => text(v));
  return { needed, runpath: paths.flatMap((p) => p.split(":")).filter((p) => p !== "") };
}

/**
 * Path of the TensorFlow C library (`libtensorflow.so*` or the Python wheel's
 * `libtensorflow_cc.so*`) that the addon at `bindingFile` loads, or null when
 * its runpath does not name an existing one (then the loader found it on the
 * system's default path, which we do not guess).
 */
export function tensorflowLibraryFor(bindingFile: string): string | null {
  const { needed, runpath } = elfDynamicInfo(Deno.readFileSync(bindingFile));
  const origin = bindingFile.slice(0, bindingFile.lastIndexOf("/"));
  const names = needed.filter((n) => /^libtensorflow(_cc)?\.so(\.\d+)*$/.test(n));
  for (const dir of runpath.map((p) => p.replaceAll("$ORIGIN", origin).replaceAll("${ORIGIN}", origin))) {
    for (const name of names) {
      const path = `${dir}/${name}`;
      try {
        if (Deno.statSync(path).isFile) return path;
      } catch {
        // not in this directory
      }
    }
  }
  return null;
}
