"""A text corpus as a token stream for language-model training: a local file (or the
deterministic synthetic corpus when none is given) -> byte-level BPE tokens (tokenizer and token
stream cached on disk) -> random windows of seq + 1 tokens."""
import io
import os
from dataclasses import dataclass

import numpy as np

from vibetensor.experiments.data import bpe


@dataclass
class TokenStream:
    tokens: np.ndarray       # int64 (n,)
    tokenizer: bpe.Tokenizer
    source: str              # "real:<path>" or "synthetic"

    def batch(self, rng: np.random.Generator, batch: int, seq: int):
        """(inputs, targets), each int64 (batch, seq): random windows of seq + 1 tokens, the
        targets shifted by one."""
        if len(self.tokens) < seq + 2:
            raise ValueError(f"the corpus has {len(self.tokens)} tokens, too few for windows of {seq + 1}")
        starts = rng.integers(0, len(self.tokens) - seq - 1, size=batch)
        windows = self.tokens[starts[:, None] + np.arange(seq + 1)]
        return np.ascontiguousarray(windows[:, :-1]), np.ascontiguousarray(windows[:, 1:])


def synthetic_corpus(n_bytes: int = 1 << 20, seed: int = 0) -> bytes:
    """English-like text: a lexicon of pronounceable words drawn with Zipf frequencies, in
    sentences and paragraphs. Identical for a given (n_bytes, seed) on every machine."""
    rng = np.random.default_rng(seed)
    onsets = ["", "b", "c", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "th", "st", "pr"]
    vowels = ["a", "e", "i", "o", "u", "ea", "ou", "ai"]
    codas = ["", "", "n", "r", "s", "t", "l", "nd", "st", "ng"]

    def word():
        return "".join(onsets[rng.integers(len(onsets))] + vowels[rng.integers(len(vowels))] +
                       codas[rng.integers(len(codas))] for _ in range(int(rng.integers(1, 4))))

    lexicon = list(dict.fromkeys(word() for _ in range(4000)))
    weights = 1.0 / np.arange(1, len(lexicon) + 1)
    weights /= weights.sum()
    out, size = io.StringIO(), 0
    while size < n_bytes:
        words = [lexicon[i] for i in rng.choice(len(lexicon), size=int(rng.integers(4, 16)), p=weights)]
        sentence = " ".join(words).capitalize() + (". " if rng.random() < 0.9 else ".\n\n")
        out.write(sentence)
        size += len(sentence)
    return out.getvalue().encode("ascii")[:n_bytes]


def read_corpus(path: str) -> bytes:
    if not os.path.isfile(path):
        raise FileNotFoundError(f"text corpus {path!r} does not exist (expected a local text file)")
    with open(path, "rb") as f:
        data = f.read()
    if not data:
        raise ValueError(f"text corpus {path!r} is empty")
    return data


def load(path: str | None, vocab_size: int, cache_dir: str | None = None, synthetic_bytes: int = 1 << 20) -> TokenStream:
    """Tokenizes the corpus at `path` (the synthetic corpus when None or empty) with a BPE
    tokenizer of vocab_size trained on it; both tokenizer and tokens are cached."""
    data = read_corpus(path) if path else synthetic_corpus(synthetic_bytes)
    source = f"real:{os.path.abspath(path)}" if path else "synthetic"
    cache_dir = cache_dir or bpe.default_cache_dir()
    tok = bpe.train_cached(data, vocab_size, cache_dir)
    tokens_path = os.path.join(cache_dir, bpe.corpus_key(data, vocab_size) + ".tokens.npy")
    tokens = None
    if os.path.exists(tokens_path):
        try:
            tokens = np.load(tokens_path)
        except (OSError, ValueError):
            tokens = None  # unreadable: re-encoded below
    if tokens is None or tokens.dtype != np.int64 or tokens.ndim != 1:
        tokens = np.asarray(tok.encode(data), dtype=np.int64)
        buf = io.BytesIO()
        np.save(buf, tokens)
        bpe.write_atomic(tokens_path, buf.getvalue())
    return TokenStream(tokens, tok, source)

