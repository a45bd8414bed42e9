"""Provenance recorded with every result: code version, framework, machine, policies."""
import datetime as _dt
import os
import platform
import subprocess


def _source_root() -> str:
    """Where the code's git history is: the checkout holding this package when it runs from one,
    else the working directory (an installed package run from a clone of the repository)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if os.path.exists(os.path.join(root, "CMakeLists.txt")):
        return root
    return os.getcwd()


def _git(*args) -> str:
    try:
        return subprocess.run(["git", *args], cwd=_source_root(), capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def git_state() -> dict:
    """The commit and dirty flag; VT_GIT_COMMIT (and VT_GIT_DIRTY=0/1) name them where the tree is a
    copy whose .git does not match it (the GPU machine's copy of a working tree, see
    scripts/gpu_session.sh)."""
    if os.environ.get("VT_GIT_COMMIT"):
        return {"git_commit": os.environ["VT_GIT_COMMIT"], "git_dirty": os.environ.get("VT_GIT_DIRTY", "0") == "1",
                "git_source": "VT_GIT_COMMIT"}
    commit = _git("rev-parse", "HEAD")
    dirty = bool(_git("status", "--porcelain", "--untracked-files=no")) if commit else None
    return {"git_commit": commit or None, "git_dirty": dirty}


def framework_info(fw_name: str, fw) -> dict:
    info = {"framework": fw_name, "framework_version": getattr(fw, "__version__", "unknown")}
    if fw_name == "torch":
        info["threads"] = fw.get_num_threads()
        info["cuda_version"] = fw.version.cuda
    return info


def machine_info(device: str, fw_name: str, fw) -> dict:
    info = {"host": platform.node(), "cpu": platform.processor() or platform.machine(), "cpu_count": os.cpu_count(),
            "python": platform.python_version(), "device": device}
    if device.startswith("cuda"):
        try:
            info["device_name"] = fw.cuda.get_device_name(0)
        except Exception as e:  # recorded, not hidden
            info["device_name"] = f"unknown ({e})"
    else:
        info["device_name"] = "cpu"
    return info


def now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
