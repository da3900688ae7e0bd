/**
 * Installs the native TensorFlow backend for Deno, offline from Google's
 * storage host:
 *
 * 1. `deno install` puts `@tensorflow/tfjs-node(-gpu)@4.22.0` (source of the
 *    addon included) into `node_modules/` without running its install script;
 * 2. where that script's download host is reachable, the script itself runs
 *    (the standard install: prebuilt libtensorflow 2.9.1 and addon);
 * 3. otherwise `pip download` fetches the pinned TensorFlow wheels from PyPI,
 *    checks their SHA-256, and unpacks the C library and headers into
 *    `native/tensorflow-<cpu|gpu>-<version>/site/` (the wheels' own layout,
 *    so the CUDA build finds `nvidia/*\/lib` through its `$ORIGIN` RUNPATH);
 *    `npm pack` fetches the N-API headers;
 * 4. `g++` compiles the addon's two sources exactly as its `binding.gyp` does
 *    (same defines and libraries), with an rpath to that library directory,
 *    and the result is copied to where the package's JS looks for it.
 *
 * node-gyp is not used: it insists on full Node headers (`common.gypi`),
 * normally downloaded from nodejs.org; the addon is plain N-API, so the
 * `node-api-headers` package and one compiler call suffice.
 *
 * A `stamp.json` beside the build records the pins it was made from, so a
 * repeated setup only re-checks hashes of the small addon and returns.
 */
import { fileURLToPath } from "node:url";
import { UserError } from "../../src/errors.ts";
import { exists, writeJsonAtomic } from "../../src/io.ts";
import { bindingPath, type NativePackage, nativePackageDir } from "../../src/backend/native.ts";
import {
  CPU_WHEELS,
  GPU_WHEELS,
  NODE_API_HEADERS,
  NVIDIA_MEMBERS,
  type PinnedWheel,
  STANDARD_LIBTENSORFLOW_URL,
  TENSORFLOW_MEMBERS,
  TENSORFLOW_VERSION,
  TFJS_NODE_VERSION,
} from "./pins.ts";
import { hasFileWithHash, type Log, run, runChecked, sha256File, since } from "./_run.ts";

/** Repository root. */
export const ROOT: string = fileURLToPath(new URL("../../", import.meta.url)).replace(/\/$/, "");
/** Where setup keeps downloads and builds (gitignored). */
export const NATIVE_DIR = `${ROOT}/native`;

/** Options of {@linkcode setupNative}. */
export interface SetupOptions {
  /** Build `@tensorflow/tfjs-node-gpu` against the CUDA build of TensorFlow. */
  gpu: boolean;
  /** Ignore stamps and redo every step. */
  force: boolean;
  /** Skip the standard install even where its host is reachable. */
  fromRegistries: boolean;
  log: Log;
}

/** How the addon in `node_modules` came to be. */
export interface SetupResult {
  package: NativePackage;
  /** `pypi-wheel` (built here) or `standard` (tfjs-node's own install script). */
  source: "pypi-wheel" | "standard";
  /** Whether everything was already in place. */
  alreadyDone: boolean;
  bindingPath: string;
}

interface Stamp {
  key: string;
  source: "pypi-wheel" | "standard";
  bindingSha256: string;
}

/** Compiler flags; part of the stamp key so a change here rebuilds. */
const CXXFLAGS = ["-std=c++17", "-O2", "-fPIC", "-shared", "-DNAPI_VERSION=8", "-DBUILDING_NODE_EXTENSION"];

/**
 * Makes `@tensorflow/tfjs-node` (or `-gpu`) loadable: downloads, verifies,
 * builds and installs what is missing. Throws {@linkcode UserError} naming the
 * failed step.
 */
export async function setupNative(opts: SetupOptions): Promise<SetupResult> {
  const { log } = opts;
  const pkg: NativePackage = opts.gpu ? "@tensorflow/tfjs-node-gpu" : "@tensorflow/tfjs-node";
  const variant = opts.gpu ? "gpu" : "cpu";
  const wheels = opts.gpu ? GPU_WHEELS : CPU_WHEELS;
  const buildDir = `${NATIVE_DIR}/tensorflow-${variant}-${TENSORFLOW_VERSION}`;
  const siteDir = `${buildDir}/site`;
  const libDir = `${siteDir}/tensorflow`;
  const builtBinding = `${buildDir}/tfjs_binding.node`;
  const stampPath = `${buildDir}/stamp.json`;
  const installed = bindingPath(pkg);
  const key = JSON.stringify({ pkg, TFJS_NODE_VERSION, wheels, NODE_API_HEADERS, CXXFLAGS, libDir });

  await ensurePackage(pkg, log);

  const stamp = opts.force ? undefined : await readStamp(stampPath);
  if (stamp?.key === key && await hasFileWithHash(installed, stamp.bindingSha256)) {
    log(
      `${pkg}: already set up (${
        stamp.source === "standard" ? "standard install" : `TensorFlow ${TENSORFLOW_VERSION} from PyPI`
      })`,
    );
    return { package: pkg, source: stamp.source, alreadyDone: true, bindingPath: installed };
  }
  await Deno.mkdir(buildDir, { recursive: true });

  if (!opts.fromRegistries && await tryStandardInstall(pkg, variant, log)) {
    await writeJsonAtomic(stampPath, { key, source: "standard", bindingSha256: await sha256File(installed) });
    return { package: pkg, source: "standard", alreadyDone: false, bindingPath: installed };
  }

  // The addon built earlier survives a wiped node_modules: reinstall it.
  if (stamp?.key === key && await hasFileWithHash(builtBinding, stamp.bindingSha256)) {
    await installBinding(builtBinding, installed, log);
    return { package: pkg, source: "pypi-wheel", alreadyDone: false, bindingPath: installed };
  }

  const headersDir = await ensureNodeApiHeaders(opts.force, log);
  await ensureWheels(wheels, siteDir, opts.force, log);
  await compileBinding(nativePackageDir(pkg), headersDir, libDir, builtBinding, log);
  await installBinding(builtBinding, installed, log);
  await writeJsonAtomic(stampPath, { key, source: "pypi-wheel", bindingSha256: await sha256File(builtBinding) });
  return { package: pkg, source: "pypi-wheel", alreadyDone: false, bindingPath: installed };
}

/** Runs `deno install` when the package is not yet in node_modules. */
async function ensurePackage(pkg: NativePackage, log: Log): Promise<void> {
  if (await exists(`${nativePackageDir(pkg)}/binding/tfjs_backend.cc`)) return;
  const t0 = performance.now();
  log(`${pkg}: not in node_modules; running 'deno install'`);
  await runChecked(Deno.execPath(), ["install"], { cwd: ROOT });
  if (!(await exists(`${nativePackageDir(pkg)}/binding/tfjs_backend.cc`))) {
    throw new UserError(
      `${pkg}@${TFJS_NODE_VERSION} is still missing from node_modules after 'deno install' (is it in deno.json's imports?)`,
    );
  }
  log(`${pkg}: installed (${since(t0)})`);
}

async function readStamp(path: string): Promise<Stamp | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(path)) as Stamp;
  } catch {
    return undefined;
  }
}

/**
 * The standard install: tfjs-node's own `scripts/install.js`, run by Deno as
 * the package's lifecycle script. Only tried when the host it downloads from
 * answers; on any failure the registry route takes over.
 */
async function tryStandardInstall(pkg: NativePackage, variant: "cpu" | "gpu", log: Log): Promise<boolean> {
  const url = STANDARD_LIBTENSORFLOW_URL[variant];
  try {
    const res = await fetch(url, { method: "HEAD", signal: AbortSignal.timeout(5000) });
    await res.body?.cancel();
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
  } catch (e) {
    log(`standard install skipped: libtensorflow host unreachable (${e instanceof Error ? e.message : e})`);
    return false;
  }
  log(`${pkg}: libtensorflow host reachable; running the package's own install script`);
  const r = await run(Deno.execPath(), ["install", `--allow-scripts=npm:${pkg}@${TFJS_NODE_VERSION}`], { cwd: ROOT });
  if (r.code !== 0 || !(await exists(bindingPath(pkg)))) {
    log(`standard install failed (exit ${r.code}); building from PyPI instead`);
    return false;
  }
  log(`${pkg}: standard install done`);
  return true;
}

/** Downloads and unpacks `node-api-headers`; returns its include directory. */
async function ensureNodeApiHeaders(force: boolean, log: Log): Promise<string> {
  const dir = `${NATIVE_DIR}/${NODE_API_HEADERS.name}-${NODE_API_HEADERS.version}`;
  const include = `${dir}/package/include`;
  if (!force && await exists(`${include}/node_api.h`)) return include;
  const t0 = performance.now();
  const downloads = `${NATIVE_DIR}/downloads`;
  await Deno.mkdir(downloads, { recursive: true });
  const tgz = `${downloads}/${NODE_API_HEADERS.file}`;
  if (!(await hasFileWithHash(tgz, NODE_API_HEADERS.sha256))) {
    log(`downloading ${NODE_API_HEADERS.name}@${NODE_API_HEADERS.version} (npm pack)`);
    await runChecked("npm", [
      "pack",
      `${NODE_API_HEADERS.name}@${NODE_API_HEADERS.version}`,
      "--pack-destination",
      downloads,
    ], {
      installHint: "Node.js's npm is needed to fetch node-api-headers",
    });
  }
  await verifyHash(tgz, NODE_API_HEADERS.sha256);
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  await Deno.mkdir(dir, { recursive: true });
  await runChecked("tar", ["-xzf", tgz, "-C", dir]);
  log(`${NODE_API_HEADERS.name}: ready (${since(t0)})`);
  return include;
}

async function verifyHash(path: string, sha256: string): Promise<void> {
  const got = await sha256File(path);
  if (got !== sha256) {
    await Deno.remove(path).catch(() => {});
    throw new UserError(`${path}: SHA-256 ${got} does not match the pinned ${sha256} (file removed; rerun setup)`);
  }
}

/**
 * Downloads the pinned wheels with pip, checks each hash, unpacks the needed
 * members into `siteDir`, then deletes the wheel (the unpacked files are what
 * is used; a wheel stamp file records that its members are in place).
 */
async function ensureWheels(wheels: readonly PinnedWheel[], siteDir: string, force: boolean, log: Log): Promise<void> {
  const downloads = `${NATIVE_DIR}/downloads`;
  await Deno.mkdir(downloads, { recursive: true });
  await Deno.mkdir(siteDir, { recursive: true });
  const unpackedMark = (w: PinnedWheel): string => `${siteDir}/.unpacked-${w.sha256}`;
  const todo: PinnedWheel[] = [];
  for (const w of wheels) if (force || !(await exists(unpackedMark(w)))) todo.push(w);
  if (todo.length === 0) return;

  const missing: PinnedWheel[] = [];
  for (const w of todo) if (!(await hasFileWithHash(`${downloads}/${w.file}`, w.sha256))) missing.push(w);
  if (missing.length > 0) {
    const t0 = performance.now();
    log(
      `downloading ${missing.length} wheel(s) from PyPI: ${missing.map((w) => `${w.name}==${w.version}`).join(", ")}`,
    );
    // Platform flags let pip fetch Linux x86-64 CPython 3.10 wheels whatever
    // Python runs it; --no-deps because the pins list everything needed.
    await runChecked("python3", [
      "-m",
      "pip",
      "download",
      "--no-deps",
      "--only-binary=:all:",
      "--platform=manylinux2014_x86_64",
      "--platform=manylinux1_x86_64",
      "--python-version=3.10",
      "--implementation=cp",
      "--progress-bar=off",
      "-d",
      downloads,
      ...missing.map((w) => `${w.name}==${w.version}`),
    ], { installHint: "Python 3 with pip is needed to download TensorFlow from PyPI" });
    log(`downloaded (${since(t0)})`);
  }
  for (const w of todo) {
    const t0 = performance.now();
    const path = `${downloads}/${w.file}`;
    if (!(await exists(path))) throw new UserError(`pip did not produce ${w.file} (platform tag changed?)`);
    await verifyHash(path, w.sha256);
    const members = w.name.startsWith("nvidia-") ? NVIDIA_MEMBERS : TENSORFLOW_MEMBERS;
    await unpackMembers(path, siteDir, members);
    await Deno.writeTextFile(unpackedMark(w), `${w.name}==${w.version}\n`);
    await Deno.remove(path);
    log(`${w.name}==${w.version}: SHA-256 ok, unpacked (${since(t0)})`);
  }
}

/** Extracts members whose names start with one of `prefixes` (headers of NVIDIA wheels skipped). */
async function unpackMembers(wheel: string, dest: string, prefixes: readonly string[]): Promise<void> {
  const script = [
    "import sys, json, zipfile",
    "whl, dest, prefixes = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])",
    "with zipfile.ZipFile(whl) as z:",
    "    for m in z.infolist():",
    "        n = m.filename",
    "        if m.is_dir() or not any(n.startswith(p) for p in prefixes): continue",
    "        if n.startswith('nvidia/') and '/include/' in n: continue",
    "        z.extract(m, dest)",
  ].join("\n");
  await runChecked("python3", ["-c", script, wheel, dest, JSON.stringify(prefixes)]);
}

/**
 * Compiles `binding/tfjs_backend.cc` and `binding/tfjs_binding.cc` into an
 * N-API addon linked to `libtensorflow_cc.so.2` (the wheel's name for
 * libtensorflow) and `libtensorflow_framework.so.2`, found at run time through
 * an absolute rpath to `libDir`.
 */
async function compileBinding(
  packageDir: string,
  headersDir: string,
  libDir: string,
  out: string,
  log: Log,
): Promise<void> {
  const t0 = performance.now();
  log(`compiling tfjs_binding.node with g++ against ${libDir.slice(ROOT.length + 1)}`);
  const tmp = `${out}.tmp`;
  await runChecked("g++", [
    ...CXXFLAGS,
    `-I${headersDir}`,
    `-I${libDir}/include`,
    `-I${packageDir}`,
    `${packageDir}/binding/tfjs_backend.cc`,
    `${packageDir}/binding/tfjs_binding.cc`,
    "-o",
    tmp,
    `-L${libDir}`,
    "-l:libtensorflow_cc.so.2",
    "-l:libtensorflow_framework.so.2",
    `-Wl,-rpath,${libDir}`,
  ], { installHint: "apt-get install g++" });
  await Deno.rename(tmp, out);
  log(`compiled (${since(t0)})`);
}

async function installBinding(built: string, target: string, log: Log): Promise<void> {
  await Deno.mkdir(target.slice(0, target.lastIndexOf("/")), { recursive: true });
  await Deno.copyFile(built, target);
  log(`installed ${target.slice(ROOT.length + 1)}`);
}

/** What {@linkcode verifyNative} found: the TensorFlow version, the device, and a gradient's error against `cpu`. */
export interface NativeCheck {
  tensorflowVersion?: string;
  gpu: boolean;
  relativeError: number;
}

/**
 * Loads the native backend in a fresh process (the addon is loaded once per
 * process, and the caller must not keep TensorFlow's threads around) and
 * checks a conv2d gradient against the `cpu` backend (`verify_native.ts`).
 * Throws a one-line {@linkcode UserError} when the check fails.
 */
export async function verifyNative(): Promise<NativeCheck> {
  const r = await run(Deno.execPath(), [
    "run",
    "--allow-read",
    "--allow-env",
    "--allow-ffi",
    "--allow-sys",
    `${ROOT}/scripts/setup/verify_native.ts`,
  ], { cwd: ROOT });
  const line = r.stdout.trim().split("\n").pop() ?? "";
  if (r.code !== 0) {
    throw new UserError(`native backend check failed: ${line || r.stderr.trim().split("\n").slice(-2).join(" | ")}`);
  }
  return JSON.parse(line) as NativeCheck;
}

export { since } from "./_run.ts";
