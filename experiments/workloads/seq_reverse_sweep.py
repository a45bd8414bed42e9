"""seq_reverse_sweep: a learning-rate sweep trained by K Python threads in one process. Replica i is
a whole seq_reverse run (its model, SGD optimizer and batches) with seed `seed + i` and learning
rate lr * (i + 1) / K, trained by thread i; one step is every replica's step, the loss the mean of
theirs. See Note [Concurrent sweep]."""
import dataclasses
from dataclasses import dataclass

from vibetensor.experiments.workloads import seq_reverse
from vibetensor.experiments.workloads.replica_threads import ReplicaThreads

# Note [Concurrent sweep]
# The other workloads train one model on one thread, so the host-side serialization points that
# only bite between threads cost them nothing: the process-wide backward gate (autograd.gate=global),
# the GIL kept through backward (autograd.gil=held) and the process-wide allocator lock
# (alloc.lock=global). Here K replicas train at once on K long-lived threads (Note [Replica
# threads]), as a sweep or an ensemble in one process does. Under tuned (and in PyTorch) their
# backward passes overlap with each other and with the other replicas' Python forward code; under
# vibe they take turns. Replicas share nothing but the process: each has its seq_reverse Config with
# its own seed (weights and batches) and learning rate, so PyTorch and vibetensor train identical
# replicas and the mean loss keeps loss parity meaningful. Batches are drawn and uploaded on the
# calling thread, untimed, like every workload's. Every replica thread takes the intra-op thread
# count of the thread that built the workload (vibetensor's CPU kernel team is per thread).


@dataclass
class Config(seq_reverse.Config):
    replicas: int = 4  # K: threads, models, optimizers; replica i has lr * (i + 1) / K


class Workload:
    name = "seq_reverse_sweep"
    data_source = "synthetic"

    def __init__(self, fw, device="cpu", cfg: Config | None = None):
        self.fw, self.device, self.cfg = fw, device, cfg or Config()
        c = self.cfg
        base = {f.name: getattr(c, f.name) for f in dataclasses.fields(seq_reverse.Config)}
        self.replicas = [
            seq_reverse.Workload(fw, device, seq_reverse.Config(**{**base, "seed": c.seed + i,
                                                                   "lr": c.lr * (i + 1) / c.replicas}))
            for i in range(c.replicas)]
        intra_op = fw.get_num_threads()
        self.threads = ReplicaThreads(c.replicas, self._train_replica,
                                      setup=lambda i: fw.set_num_threads(intra_op), name=f"{self.name}-replica")

    def _train_replica(self, i: int, batch) -> float:
        return self.replicas[i].step(batch)

    def next_batch(self):
        return [r.next_batch() for r in self.replicas]

    def step(self, batch) -> float:
        losses = self.threads.run(batch)
        return sum(losses) / len(losses)

    def close(self):
        self.threads.close()
