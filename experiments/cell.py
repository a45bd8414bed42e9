"""Runs one cell in this process and prints its record as JSON (the CLI runs each cell in a
fresh process so policies fixed at first use, such as alloc.cuda, can differ between cells)."""
import argparse
import json
import sys

from vibetensor.experiments.runner import run_cell


def main(argv=None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--workload", required=True)
    p.add_argument("--framework", required=True)
    p.add_argument("--device", default="cpu")
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--policy", default="{}", help="JSON object of policy name -> value (and 'preset')")
    p.add_argument("--options", default="{}", help="JSON object of workload options (fields of its Config)")
    p.add_argument("--probe-steps", type=int, default=5)
    p.add_argument("--gpu-steps", type=int, default=5)
    p.add_argument("--progress", action="store_true", help="print a @@STEP@@ line after every step")
    a = p.parse_args(argv)
    total = a.warmup + a.steps

    def progress(i):
        sys.stdout.write(f"@@STEP@@{i + 1}/{total}\n")
        sys.stdout.flush()

    rec = run_cell(a.workload, a.framework, a.device, a.steps, a.warmup, json.loads(a.policy),
                   on_step=progress if a.progress else None, options=json.loads(a.options),
                   probe_steps=a.probe_steps, gpu_steps=a.gpu_steps)
    sys.stdout.write("\n@@RESULT@@" + json.dumps(rec) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
