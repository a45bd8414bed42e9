"""Data-parallel cells: `[run] data_parallel = N` runs each cell as N ranks of a launched job, the workload's model
wrapped in the framework's DistributedDataParallel (Note [Data-parallel cells])."""
import os

from vibetensor.experiments import child

# Note [Data-parallel cells]
# A data-parallel cell is the cell's process (cell.py) started N times by a launcher: vibetensor's cells by
# `python -m vibetensor.distributed.run`, PyTorch's by torchrun (`python -m torch.distributed.run`), with the
# same environment (RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR / MASTER_PORT). Each rank initializes the
# framework's default group (NCCL on CUDA, gloo on the CPU), trains on cuda:LOCAL_RANK (or the CPU), draws
# its own batches (the workload's seed plus the rank: weak scaling, the global batch is N times the workload's)
# and wraps the workload's model in DistributedDataParallel, which starts every rank from rank 0's parameters.
# Everything else is the plain cell's path: with N = 1 the only difference is the wrapper (vibetensor's DDP of
# one rank is the module itself; torch's keeps its reducer), so the world-size-1 step is the single-device step
# plus what the wrapper costs. Rank 0 talks to the driver (it reads the commands on stdin and broadcasts them,
# the others wait for them in that broadcast; only rank 0 prints the protocol's lines), every rank runs every
# step, and the record, rank 0's, carries each rank's step times (all_gather_object). Nothing here waits without
# a bound: a rank that dies makes the launcher stop the job, and the driver marks the cell failed.

LAUNCHERS = {"vibetensor": "vibetensor.distributed.run", "torch": "torch.distributed.run"}


def launch_command(framework: str, nproc: int, cell_args: list) -> list:
    """argv of a cell run as `nproc` ranks by the framework's launcher. The ranks run `python -m`: PYTHONSAFEPATH
    keeps a source checkout in the working directory from shadowing the package (Note [Child processes])."""
    launcher = child.module_command(LAUNCHERS[framework], "--nproc-per-node", str(nproc),
                                    *(["--standalone"] if framework == "torch" else []),
                                    "-m", "vibetensor.experiments.cell", *cell_args, "--data-parallel")
    return ["env", "PYTHONSAFEPATH=1", *launcher]


class Rank:
    """This process as a rank of a data-parallel cell: the default group of `fw` made from the launcher's
    environment, and the device of its LOCAL_RANK."""

    def __init__(self, fw, device: str):
        self.fw, self.dist = fw, fw.distributed
        self.local = int(os.environ.get("LOCAL_RANK", 0))
        self.on_cuda = str(device).startswith("cuda")
        self.device = f"cuda:{self.local}" if self.on_cuda else device
        if self.on_cuda:
            fw.cuda.set_device(self.local)
        self.dist.init_process_group("nccl" if self.on_cuda else "gloo")
        self.rank, self.size = self.dist.get_rank(), self.dist.get_world_size()

    def wrap(self, wl, workload: str):
        """The workload's model in DistributedDataParallel (its optimizer holds the same parameters)."""
        if not hasattr(wl, "model"):
            raise ValueError(f"data_parallel: workload {workload} has no model attribute to wrap in "
                             "DistributedDataParallel")
        ids = [self.local] if self.on_cuda else None
        wl.model = self.fw.nn.parallel.DistributedDataParallel(wl.model, device_ids=ids)

    def next_command(self, lines) -> str:
        """The driver's next command line: rank 0 reads it from `lines`, every rank gets it ('' at the end)."""
        box = [next(lines, "") if self.rank == 0 else None]
        self.dist.broadcast_object_list(box, src=0)
        return box[0]

    def per_rank(self, times: list) -> dict:
        """Every rank's step times, gathered on every rank."""
        import statistics
        everyone = [None] * self.size
        self.dist.all_gather_object(everyone, list(times))
        return {"world_size": self.size, "backend": self.dist.get_backend(),
                "rank_step_times_s": everyone,
                "rank_median_step_ms": [1e3 * statistics.median(t) if t else None for t in everyone]}

    def close(self):
        # A barrier first: torch's Gloo group frees a finished all_gather_object's tensors on its run-loop
        # thread, which takes the GIL to do so; destroying the group joins that thread, and a destroy reached
        # (under the GIL) while the thread still waits for it deadlocks. Work.wait() releases the GIL, so
        # after the barrier the run loop is idle.
        self.dist.barrier()
        self.dist.destroy_process_group()

