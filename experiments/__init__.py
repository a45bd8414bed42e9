"""Experiments: workloads defined once, run on vibetensor and PyTorch, compared with provenance."""
