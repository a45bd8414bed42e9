"""Data sources of the workloads: CIFAR-10 pickle batches, MNIST IDX files, a byte-level BPE
tokenizer and a token-stream text loader, each with a deterministic synthetic stand-in."""
