"""Where a matrix's groups run: `vibetensor run CONFIG --executor local|ray`. See Note [Executors]."""
import os
import shutil
import tempfile

from vibetensor.experiments import rounds

EXECUTORS = ("local", "ray")

# Note [Executors]
# A matrix is groups of cells, and a group's cells take turns in interleaved rounds (Note [Interleaved
# rounds]): they must run in one place at one time, so a group is what an executor places.
# - local (the default): the groups run one after another here, with the progress bar per step.
# - ray: each group is a Ray task (Ray: an existing engine that schedules Python tasks over a cluster's
#   nodes by resources, restarts lost ones and runs as a local cluster for tests). A task asks for the
#   resources its group needs: one GPU for a CUDA matrix, `threads` CPUs (the cells take turns, so one
#   group runs one cell at a time). Groups run concurrently wherever the cluster has room; on one machine
#   concurrent groups share its cores, which a timing study may not want (give the tasks more CPUs, or
#   run local). This process gathers each group's records as it finishes and appends them to the results
#   file itself, the only writer (analysis.append rewrites it atomically), before it waits for the next: a sweep stopped at
#   any point resumes from its file (`vibetensor run` again skips finished groups). A worker lost in the
#   middle of a group (its process or node dies) makes Ray run the task again, up to `retries` times; a
#   group whose cells fail is recorded as failed, as locally. Workers run the cells' commands with the
#   Python and the checkout of this process: a cluster's nodes need the same environment at the same
#   paths (one image or a shared filesystem). The workers' working directory is an empty one of Ray's
#   (_worker_env), not this process's, so the cells record the commit this process checks its results
#   against from VT_GIT_COMMIT, which run_matrix sets for every executor. RAY_ADDRESS (or --ray-address) joins a running cluster;
#   without it a local one is started for the run.


def run_local(jobs, run_job):
    """[(job, (records, errors))] for each job run here in turn: run_job(job) -> (records, errors)."""
    for job in jobs:
        yield job, run_job(job)


def _run_group_task(commands, steps, n_rounds, timeout_s, env):
    return rounds.run_group(commands, steps, n_rounds, timeout_s, env)


def _worker_env(workdir: str) -> dict:
    """The Ray job's runtime environment: Ray puts the driver's working directory first on its workers'
    sys.path unless a job names a working_dir, and from a source checkout that folder's vibetensor/ (no
    built _C) shadows the package this process runs. An empty working_dir keeps it off; PYTHONPATH then
    names this process's package first, as child.child_env() does for the cells (Note [Executors])."""
    from vibetensor.experiments import child

    return {"working_dir": workdir, "env_vars": {"PYTHONPATH": child.child_env()["PYTHONPATH"]}}


def run_ray(jobs, group_args, gpus_per_group=0, cpus_per_group=1, retries=2, address=None, on_start=None):
    """[(job, (records, errors))] as the jobs' Ray tasks finish: group_args(job) -> (commands, steps, rounds,
    timeout_s, env) of rounds.run_group. Starts a local Ray cluster unless `address` (or RAY_ADDRESS) names one."""
    try:
        import ray
    except ImportError as e:
        raise SystemExit("--executor ray needs Ray: pip install 'ray>=2.9' (the test extra has it)") from e
    started = not ray.is_initialized()
    workdir = tempfile.mkdtemp(prefix="vt-ray-workdir-")  # empty: Ray packs it for the workers
    try:
        if started:  # a working_dir is the job's (ray.init's), not a task's
            ray.init(address=address or os.environ.get("RAY_ADDRESS"), include_dashboard=False, log_to_driver=False,
                     configure_logging=False, runtime_env=_worker_env(workdir))
        task = ray.remote(num_cpus=cpus_per_group, num_gpus=gpus_per_group, max_retries=retries)(_run_group_task)
        pending = {task.remote(*group_args(job)): job for job in jobs}
        if on_start:
            on_start(ray.cluster_resources(), len(pending))
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            job = pending.pop(ready[0])
            yield job, ray.get(ready[0])
    finally:
        if started:
            ray.shutdown()
        shutil.rmtree(workdir, ignore_errors=True)
