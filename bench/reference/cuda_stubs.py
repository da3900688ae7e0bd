#!/usr/bin/env python3
"""Makes PyPI's CUDA build of torch import on a machine without CUDA.

PyPI's only Linux x86_64 torch wheels are CUDA builds: their libraries name
libcudart, libcublas, libcudnn, libnccl, ... as DT_NEEDED dependencies, which
pip would satisfy with ~3 GB of nvidia-* wheels. The CPU-only wheels live on
download.pytorch.org, which this machine cannot reach. So `deno task
bench-reference --setup` installs torch with `--no-deps` and then runs this
script, which writes one small stub library per missing NVIDIA library into
torch/lib (on the libraries' RUNPATH, $ORIGIN). Each stub has the missing
library's soname and symbol-version node and defines every symbol torch takes
from it as a function returning 100, which is cudaErrorNoDevice in the runtime
API and CUDA_ERROR_NO_DEVICE in the driver API; the *GetErrorString / Name
functions return a static message instead. So `torch.cuda.is_available()` is
False and every CPU kernel (MKL, oneDNN) is the wheel's own, untouched.

Needs `readelf` (binutils) and a C compiler (`cc`). Prints the stubs it wrote.

Usage: python bench/reference/cuda_stubs.py   (with the venv's python)
"""
import ctypes
import glob
import importlib.util
import os
import re
import subprocess
import sys
import tempfile

# Prefixes of the NVIDIA libraries a CUDA build of torch links against.
NVIDIA = re.compile(r"^lib(cu|nvrtc|nccl|nvToolsExt|nvJitLink|nvshmem|cupti)")
MESSAGE = "CUDA is not available (CPU-only stub library, bench/reference/cuda_stubs.py)"


def torch_dir():
    spec = importlib.util.find_spec("torch")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("cuda_stubs.py: torch is not installed in this interpreter")
    return spec.submodule_search_locations[0]


def elf_files(root):
    files = glob.glob(os.path.join(root, "lib", "*.so*")) + glob.glob(os.path.join(root, "*.so"))
    return sorted(f for f in files if os.path.isfile(f) and not os.path.islink(f))


def readelf(*args):
    return subprocess.run(["readelf", "-W", *args], check=True, capture_output=True, text=True).stdout


def needed(path):
    return re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", readelf("-d", path))


def loadable(name):
    try:
        ctypes.CDLL(name)
        return True
    except OSError:
        return False


def undefined_symbols(path):
    """(name, version or None, type) of every undefined, non-weak dynamic symbol."""
    out = []
    for line in readelf("--dyn-syms", path).splitlines():
        parts = line.split()
        if len(parts) < 8 or parts[6] != "UND" or parts[4] == "WEAK":
            continue
        name = parts[7]
        version = None
        if "@" in name:
            name, version = name.split("@", 1)
            version = version.lstrip("@")
        out.append((name, version, parts[3]))
    return out


def defined_symbols(path):
    names = set()
    for line in readelf("--dyn-syms", path).splitlines():
        parts = line.split()
        if len(parts) >= 8 and parts[6] != "UND":
            names.add(parts[7].split("@", 1)[0])
    return names


def main():
    root = torch_dir()
    lib_dir = os.path.join(root, "lib")
    elves = elf_files(root)
    present = {os.path.basename(f) for f in glob.glob(os.path.join(lib_dir, "*"))}
    deps = {f: needed(f) for f in elves}
    missing = sorted({
        d for ds in deps.values() for d in ds if NVIDIA.match(d) and d not in present and not loadable(d)
    })
    if not missing:
        print(json_line([]))
        return
    # Symbols every present library (torch's own and the system's) defines.
    provided = set()
    for f in elves:
        provided |= defined_symbols(f)
    for d in sorted({d for ds in deps.values() for d in ds if d not in missing and d not in present}):
        path = find_system_library(d)
        if path:
            provided |= defined_symbols(path)
    symbols = {m: {} for m in missing}
    for f in elves:
        own_missing = [d for d in deps[f] if d in missing]
        for name, version, kind in undefined_symbols(f):
            if version in symbols:
                symbols[version][name] = kind
            elif version is None and name not in provided:
                for m in own_missing:
                    symbols[m][name] = kind
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        for soname, syms in symbols.items():
            c_path = os.path.join(tmp, "stub.c")
            map_path = os.path.join(tmp, "stub.map")
            with open(c_path, "w") as c:
                c.write(f'static const char message[] = "{MESSAGE}";\n')
                for name, kind in sorted(syms.items()):
                    if kind == "OBJECT":
                        c.write(f"char {name}[256];\n")
                    elif re.search(r"GetError(String|Name)$", name):
                        c.write(f"const char *{name}(void) {{ return message; }}\n")
                    else:
                        c.write(f"int {name}(void) {{ return 100; }}\n")
            with open(map_path, "w") as v:
                body = "".join(f"  {n};\n" for n in sorted(syms))
                v.write(f"{soname} {{\n global:\n{body} local: *;\n}};\n")
            target = os.path.join(lib_dir, soname)
            subprocess.run(
                ["cc", "-shared", "-fPIC", "-O0", "-w", "-fno-builtin", "-o", target, c_path,
                 f"-Wl,-soname,{soname}", f"-Wl,--version-script={map_path}"],
                check=True,
            )
            written.append({"library": soname, "symbols": len(syms)})
    print(json_line(written))


def find_system_library(name):
    out = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        line = line.strip()
        if line.startswith(name + " ") and "x86-64" in line:
            return line.split(" => ")[-1]
    return None


def json_line(written):
    import json
    return json.dumps({"stubs": written})


if __name__ == "__main__":
    main()
