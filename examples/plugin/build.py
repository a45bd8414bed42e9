"""Builds the example plugin (myplug.c; with CUDA, myplug_cuda.cu too) into a shared library.

    python examples/plugin/build.py OUT_DIR [--cuda]

The compiler line is all a plugin needs: the C header's folder (vibetensor.ops.include_dir()), -shared,
-fPIC. Without --cuda it uses $CC or cc; with it, nvcc (the host compiler takes myplug.c)."""
import argparse
import os
import shutil
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))


def build(out_dir, cuda=False, include_dir=None):
    """Compiles the plugin into out_dir/libmyplug.so (libmyplug_cuda.so with cuda) and returns its path;
    RuntimeError with the compiler's output when the build fails."""
    if include_dir is None:
        import vibetensor as vt
        include_dir = vt.ops.include_dir()
    os.makedirs(out_dir, exist_ok=True)
    out = os.path.join(out_dir, "libmyplug_cuda.so" if cuda else "libmyplug.so")
    src = os.path.join(HERE, "myplug.c")
    if cuda:
        nvcc = shutil.which("nvcc") or "/usr/local/cuda/bin/nvcc"
        cmd = [nvcc, "-O2", "-shared", "-Xcompiler", "-fPIC", "-DMYPLUG_CUDA", f"-I{include_dir}", src,
               os.path.join(HERE, "myplug_cuda.cu"), "-o", out]
    else:
        cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
        if not cc:
            raise RuntimeError("no C compiler found (set CC)")
        cmd = [cc, "-O2", "-std=c11", "-shared", "-fPIC", "-Wall", "-Werror", f"-I{include_dir}", src, "-o", out]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"building the example plugin failed: {' '.join(cmd)}\n{r.stdout}{r.stderr}")
    return out


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out_dir")
    ap.add_argument("--cuda", action="store_true")
    a = ap.parse_args()
    print(build(a.out_dir, a.cuda))
