"""A byte-level BPE tokenizer: ids 0..255 are the bytes, each later id the merge of a pair of
earlier ids, learned greedily by pair frequency. Encoding and decoding round-trip exactly for any
bytes. Trained tokenizers are cached on disk, keyed by a hash of the corpus and the vocab size.

See Note [BPE training]."""
import hashlib
import heapq
import json
import os
import re
import tempfile
from collections import Counter, defaultdict

# Note [BPE training]
# The text is split into chunks (a word with its leading space, or a run of whitespace) and merges
# never cross a chunk boundary, so training works on the distinct chunks with their counts instead
# of the whole text. Pair counts are kept up to date incrementally: a merge only touches the
# chunks that contain the merged pair (found through a pair -> chunks index), and the most
# frequent pair comes from a max-heap whose stale entries are skipped when popped. Ties go to the
# smallest pair of ids, so training is deterministic. Training stops early when no pair occurs
# at least twice (the vocabulary is then smaller than asked).
CHUNK = re.compile(rb" ?[^\s]+|\s+")  # covers every byte: each is whitespace or not
FORMAT_VERSION = 1


def chunks(data: bytes) -> list:
    return CHUNK.findall(data)


class Tokenizer:
    def __init__(self, merges: list):
        self.merges = [tuple(m) for m in merges]
        self.ranks = {pair: 256 + i for i, pair in enumerate(self.merges)}
        self.vocab = [bytes([i]) for i in range(256)]
        for a, b in self.merges:
            self.vocab.append(self.vocab[a] + self.vocab[b])
        self.from_cache = False
        self._chunk_cache = {}

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def _encode_chunk(self, chunk: bytes) -> list:
        ids = list(chunk)
        while len(ids) > 1:
            # The earliest-learned merge present applies first, as in training.
            best = min((self.ranks.get(p, 1 << 62), i) for i, p in enumerate(zip(ids, ids[1:])))
            if best[0] == 1 << 62:
                break
            new, pair, out, i = best[0], (ids[best[1]], ids[best[1] + 1]), [], 0
            while i < len(ids):
                if i + 1 < len(ids) and (ids[i], ids[i + 1]) == pair:
                    out.append(new)
                    i += 2
                else:
                    out.append(ids[i])
                    i += 1
            ids = out
        return ids

    def encode(self, data) -> list:
        if isinstance(data, str):
            data = data.encode("utf-8")
        out = []
        for c in chunks(data):
            ids = self._chunk_cache.get(c)
            if ids is None:
                ids = self._chunk_cache[c] = self._encode_chunk(c)
            out.extend(ids)
        return out

    def decode(self, ids) -> bytes:
        try:
            return b"".join(self.vocab[i] for i in ids)
        except IndexError:
            bad = next(i for i in ids if not 0 <= i < len(self.vocab))
            raise ValueError(f"token id {bad} is outside the vocabulary [0, {len(self.vocab)})") from None


def train(data: bytes, vocab_size: int) -> Tokenizer:
    """Learns vocab_size - 256 merges (fewer if the text runs out of repeated pairs)."""
    if vocab_size < 256:
        raise ValueError(f"vocab_size must be at least 256 (the byte alphabet), got {vocab_size}")
    counts = Counter(chunks(data))
    words = [list(c) for c in counts]
    freq = list(counts.values())
    pair_count = defaultdict(int)
    where = defaultdict(set)  # pair -> indices of words containing it
    for w, (ids, f) in enumerate(zip(words, freq)):
        for p in zip(ids, ids[1:]):
            pair_count[p] += f
            where[p].add(w)
    heap = [(-c, p) for p, c in pair_count.items()]
    heapq.heapify(heap)
    merges = []
    while len(merges) < vocab_size - 256 and heap:
        neg, pair = heapq.heappop(heap)
        if pair_count.get(pair, 0) != -neg:
            continue  # stale entry
        if -neg < 2:
            break
        new = 256 + len(merges)
        merges.append(pair)
        touched = set()
        for w in where.pop(pair):
            ids, f = words[w], freq[w]
            for p in zip(ids, ids[1:]):  # remove this word's old pairs ...
                pair_count[p] -= f
                touched.add(p)
            out, i = [], 0
            while i < len(ids):
                if i + 1 < len(ids) and ids[i] == pair[0] and ids[i + 1] == pair[1]:
                    out.append(new)
                    i += 2
                else:
                    out.append(ids[i])
                    i += 1
            words[w] = out
            for p in zip(out, out[1:]):  # ... and add its new ones
                pair_count[p] += f
                where[p].add(w)
                touched.add(p)
        pair_count.pop(pair, None)
        for p in touched:
            c = pair_count.get(p, 0)
            if c > 0:
                heapq.heappush(heap, (-c, p))
            else:
                pair_count.pop(p, None)
    return Tokenizer(merges)


def corpus_key(data: bytes, vocab_size: int) -> str:
    return f"bpe-v{FORMAT_VERSION}-{hashlib.sha256(data).hexdigest()[:24]}-{vocab_size}"


def default_cache_dir() -> str:
    return os.environ.get("VT_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "vibetensor")


def write_atomic(path: str, payload: bytes) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
    with os.fdopen(fd, "wb") as f:
        f.write(payload)
    os.replace(tmp, path)  # concurrent trainers of the same corpus write the same bytes


def train_cached(data: bytes, vocab_size: int, cache_dir: str | None = None) -> Tokenizer:
    """The tokenizer for (data, vocab_size): read from the cache, or trained and stored there."""
    path = os.path.join(cache_dir or default_cache_dir(), corpus_key(data, vocab_size) + ".json")
    if os.path.exists(path):
        try:
            with open(path) as f:
                tok = Tokenizer(json.load(f)["merges"])
            tok.from_cache = True
            return tok
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            pass  # an unreadable cache entry is retrained and replaced
    tok = train(data, vocab_size)
    write_atomic(path, json.dumps({"vocab_size": vocab_size, "merges": tok.merges}).encode())
    return tok
