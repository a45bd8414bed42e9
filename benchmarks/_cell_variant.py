"""A benchmark variant that runs in a process of its own: a workload's cell (experiments/cell.py, as the
experiment runner's cells) under a preset, driven by the runner's line protocol. bench_step_capture.py uses it
for vibe, whose policies are fixed for a process's life and so cannot share the benchmark's tuned process."""
import json
import time

from vibetensor.experiments import child, rounds


class CellVariant:
    """The cell starts (and warms up: compiles happen here, outside the timing) at construction; block(n) runs
    n timed steps and returns their median step time in ms (each step reads its loss back); finish() returns the
    cell's GPU activity record ({busy_ms_per_step, kernels_per_step, ...} or {busy_fraction: None, reason}) and
    ends the process."""

    def __init__(self, workload, preset, device, options, steps, warmup=3, gpu_steps=5, timeout_s=900.0):
        cmd = child.module_command("vibetensor.experiments.cell", "--workload", workload, "--framework", "vibetensor",
                                   "--device", device, "--steps", str(steps), "--warmup", str(warmup), "--policy",
                                   json.dumps({"preset": preset}), "--options", json.dumps(options), "--probe-steps", "0",
                                   "--gpu-steps", str(gpu_steps))
        start = time.perf_counter()
        self._proc = rounds.CellProcess(f"{workload} {preset}", cmd, child.child_env(), timeout_s, lambda: None)
        try:
            self._proc.wait_for("@@READY@@")
        except rounds.CellFailed as e:
            self._proc.close()
            raise RuntimeError(f"the {preset} cell of {workload} did not start: {self._proc.stderr()[-1500:]}\n{e}") from None
        self.warmup_s = time.perf_counter() - start

    def block(self, steps):
        return float(self._proc.ask(f"block {steps}", "@@BLOCK@@"))

    def finish(self):
        try:
            rec = json.JSONDecoder().raw_decode(self._proc.ask("record", "@@RESULT@@"))[0]
        finally:
            self._proc.close(rounds.EXIT_GRACE_S)
        return rec.get("gpu_activity") or {"busy_fraction": None, "reason": "the cell recorded no GPU activity"}
