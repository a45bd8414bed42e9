"""Training workloads of ../shared/design/workloads.md, written once against the torch-like API."""
