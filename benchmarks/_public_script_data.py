"""The synthetic corpus that benchmarks/bench_public_scripts.py trains the public scripts on, written in each
script's format: nanoGPT's data/<dataset>/{train,val}.bin (uint16 token ids) and meta.pkl, minGPT chargpt's
input.txt. Nothing is downloaded: a seeded Markov chain over Shakespeare's 65 characters (the alphabet of
nanoGPT's shakespeare_char) gives a text with structure a model can learn, so the losses fall."""
import os
import pickle
import string

import numpy as np

ALPHABET = "\n !$&',-.3:;?" + string.ascii_uppercase + string.ascii_lowercase
SUCCESSORS = 4  # each character is followed by one of 4: the chain's entropy, ln 4, is below ln 65


def synthetic_text(n_chars, seed=0):
    """`n_chars` characters: the alphabet once (so every character occurs, as chargpt's sampling prompt needs),
    then a walk of a chain in which each character has SUCCESSORS equally likely successors."""
    rng = np.random.default_rng(seed)
    k = len(ALPHABET)
    successors = rng.integers(0, k, size=(k, SUCCESSORS))
    walk = np.empty(max(n_chars - k, 0), dtype=np.int64)
    state = 0
    for i, pick in enumerate(rng.integers(0, SUCCESSORS, size=walk.size)):
        state = successors[state, pick]
        walk[i] = state
    return ALPHABET + "".join(ALPHABET[i] for i in walk)


def write_nanogpt_dataset(root, dataset, text, val_fraction=0.1):
    """nanoGPT's prepared-data layout under root/data/<dataset>, as its data/shakespeare_char/prepare.py writes
    it (character ids, the first 90% train); returns the folder."""
    stoi = {c: i for i, c in enumerate(ALPHABET)}
    ids = np.array([stoi[c] for c in text], dtype=np.uint16)
    split = int(len(ids) * (1 - val_fraction))
    folder = os.path.join(root, "data", dataset)
    os.makedirs(folder, exist_ok=True)
    ids[:split].tofile(os.path.join(folder, "train.bin"))
    ids[split:].tofile(os.path.join(folder, "val.bin"))
    with open(os.path.join(folder, "meta.pkl"), "wb") as f:
        pickle.dump({"vocab_size": len(ALPHABET), "itos": dict(enumerate(ALPHABET)), "stoi": stoi}, f)
    return folder


def write_mingpt_input(root, text):
    """chargpt.py reads input.txt from its working folder."""
    path = os.path.join(root, "input.txt")
    with open(path, "w") as f:
        f.write(text)
    return path
