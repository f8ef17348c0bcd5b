"""Zero-cost proxies as a training-free reward signal: ``reward_metric="zc:<proxy>"``.

Every NB201 env takes ``reward_metric="zc:synflow"`` (or any proxy of
:data:`nasgym.oneshot.zero_cost.PROXIES`): the reward is then a shaping of the cell's
*normalised proxy score* instead of its validation accuracy, and the incumbent is the
cell with the best score. Nothing is trained and no benchmark accuracy reaches the
agent through the reward or the observation; ``info`` still reports the benchmark's
validation and test accuracy and the regret of the incumbent, for evaluation only,
plus the raw score in ``info["zc_score"]``.

**Scores.** A cell's raw score is the proxy of the real NB201 network (``C=16``,
``N=5``, the dataset's number of classes) at the initialisation seeded by ``seed``
(:func:`nasgym.oneshot.zero_cost.score_many`). Data-dependent proxies see a real batch
of
``batch_size`` training images of ``images``, drawn with ``seed``: ``"mnist5k"``
(default) or ``"digits"``, the image sets that ship in PyPI wheels (see
:mod:`nasgym.oneshot.datasets`), brought to the dataset's input size (32x32, 16x16 for
ImageNet16-120); or, for the CIFAR-10/100 envs, the path of a local torchvision-format
CIFAR directory, whose training images of the env's dataset are read with
:func:`nasgym.oneshot.datasets.load_cifar` (CIFAR is never downloaded). ``synflow``,
``params`` and ``flops`` only use the input shape. Every code (all 15,625, isomorphic
cells included, as the NB201 tables index them) is scored on its own.

**Normalisation to [0, 1].** ``value = Phi((t(score) - mu) / sigma)``, with ``Phi``
the standard normal CDF, ``t = log`` for the positive proxies (``synflow``, ``snip``,
``grad_norm``, ``fisher``, ``params``, ``flops``; a score of 0 gives 0) and the
identity for ``jacov`` and ``naswot`` (already log-scale; ``-inf`` gives 0), and
``mu``, ``sigma`` the mean and standard deviation of the finite ``t`` over a fixed
reference sample of :data:`REFERENCE_SIZE` cells (drawn uniformly with
:data:`REFERENCE_SEED`, the same for every env). The map is strictly increasing, so
rewards are ordered like the scores, and it needs no pass over the whole space; a
value approximates the cell's percentile among all cells. The shaping functions of
:mod:`nasgym.rewards` then apply as usual (``reward="valid"`` gives the value).

**Cost and cache.** Scores are computed lazily, per cell on first use (tens of ms per
cell on a CPU for ``synflow``, a few hundred for the data-dependent groups, about
0.05 ms for the closed-form ``flops``), plus the reference sample when an env is
made. They are kept in memory (shared by every env of the process with the same
settings) and on disk in ``$NASGYM_CACHE_DIR/zc/`` (:func:`nasgym.data.cache_dir`),
one checksummed ``.npz`` per setting, keyed by proxy, dataset, image set and batch
size (data-dependent proxies only), seed, network size, device type, nasgym and torch
versions. The file is written atomically (temporary file + rename) at most every
:data:`FLUSH_INTERVAL_S` seconds while scores are being computed, on ``env.close()``
and at exit; a write first merges what other processes wrote meanwhile. A corrupt
file is reported with a warning and rebuilt. ``nasgym data zc nb201 --proxy synflow``
precomputes all 15,625 cells with a progress bar (:func:`precompute`).

Importing this module does not import torch; computing a score does.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import math
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from nasgym.data import cache_dir, read_table, write_table
from nasgym.error import CorruptDataError, UnknownOptionError, require, unknown_option
from nasgym.oneshot.proxies import DATA_DEPENDENT as DATA_DEPENDENT
from nasgym.oneshot.proxies import DATASET_SHAPES as DATASET_SHAPES
from nasgym.oneshot.proxies import LOG_PROXIES as LOG_PROXIES
from nasgym.oneshot.proxies import PROXIES as PROXIES

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: Prefix of a zero-cost ``reward_metric``.
PREFIX = "zc:"
#: Image sets the batch can come from (see :mod:`nasgym.oneshot.datasets`); a CIFAR
#: directory path is accepted too.
IMAGE_SETS: tuple[str, ...] = ("mnist5k", "digits")
#: Prefix of :attr:`ZeroCostSettings.images` for a CIFAR directory.
CIFAR_PREFIX = "cifar-dir:"
#: Cells in the reference sample that fixes the normalisation.
REFERENCE_SIZE = 64
#: Seed of the reference sample (independent of the env's seed).
REFERENCE_SEED = 0
#: Shortest interval between two cache writes while scores are being computed.
FLUSH_INTERVAL_S = 2.0
#: Computing at least this many uncached cells at once shows a progress bar.
PROGRESS_MIN_CELLS = 32
#: Version of the cache file layout.
CACHE_FORMAT = 1
#: Number of NB201 codes.
NUM_CELLS = 5**6


def zc_metric_names() -> tuple[str, ...]:
    """Every valid ``zc:<proxy>`` reward metric."""
    return tuple(PREFIX + p for p in PROXIES)


def parse_metric(metric: str) -> str | None:
    """The proxy of a ``zc:<proxy>`` metric, or ``None`` for any other metric.

    Raises:
        UnknownOptionError: ``metric`` starts with ``zc:`` but names no proxy (the
            message lists the valid ones).
    """
    if not isinstance(metric, str) or not metric.startswith(PREFIX):
        return None
    proxy = metric[len(PREFIX) :]
    if proxy not in PROXIES:
        raise unknown_option("zero-cost reward_metric", metric, zc_metric_names())
    return proxy


@dataclass(frozen=True)
class ZeroCostSettings:
    """What a cached score depends on (the cache key, with the library versions).

    Attributes:
        proxy: A name of :data:`PROXIES`.
        dataset: An NB201 dataset (sets the classes and the input size).
        images: Image set of the batch (``None`` for data-independent proxies); a
            CIFAR directory is ``"cifar-dir:<resolved path>:<bytes of its files>"``.
        batch_size: Images in the batch (``0`` for data-independent proxies).
        seed: Seeds the networks' initialisation and the batch.
        C: Channels of the first stage.
        N: Cells per stage.
        device: Torch device type (``"cpu"`` or ``"cuda"``).
    """

    proxy: str
    dataset: str
    images: str | None
    batch_size: int
    seed: int
    C: int
    N: int
    device: str

    def key(self) -> dict[str, Any]:
        """The full cache key: settings plus format, nasgym and torch versions."""
        require("torch", extra="oneshot", purpose="zero-cost proxy rewards")
        import torch

        from nasgym import __version__

        return {
            "format": CACHE_FORMAT,
            "space": "nb201",
            **asdict(self),
            "nasgym": __version__,
            "torch": torch.__version__,
        }

    def digest(self) -> str:
        """SHA-256 of the JSON of :meth:`key`."""
        text = json.dumps(self.key(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()

    def cache_path(self) -> Path:
        """The cache file of these settings."""
        return (
            cache_dir()
            / "zc"
            / f"nb201-{self.proxy}-{self.dataset}-{self.digest()[:16]}.npz"
        )


class ScoreStore:
    """Raw scores of every NB201 code for one setting, computed on demand and cached.

    One store per setting and process (:func:`store_for`); every env with the same
    settings shares it.

    Args:
        settings: What the scores depend on.
        device: The torch device to compute on (checked by the caller).
        use_disk: Read and write the cache file.
    """

    def __init__(
        self, settings: ZeroCostSettings, *, device: Any, use_disk: bool = True
    ) -> None:
        self.settings = settings
        self.device = device
        self.use_disk = use_disk
        self.path = settings.cache_path()
        self.key_json = json.dumps(settings.key(), sort_keys=True)
        self.scores = np.full(NUM_CELLS, np.nan)
        self.known = np.zeros(NUM_CELLS, dtype=bool)
        #: Cells computed by this process (not read from disk).
        self.computed = 0
        #: Seconds spent computing scores in this process.
        self.compute_seconds = 0.0
        self._dirty = False
        self._last_flush = time.monotonic()
        self._batch: tuple[Any, Any] | None = None
        self._lock = threading.RLock()
        if use_disk:
            self._merge_disk(report=True)
            atexit.register(self.flush)

    # ----------------------------------------------------------------- disk
    def _read_disk(self, report: bool) -> tuple[FloatArray, NDArray[np.bool_]] | None:
        if not self.path.is_file():
            return None
        try:
            arrays = read_table(
                self.path, {"scores": (NUM_CELLS,), "known": (NUM_CELLS,), "key": ()}
            )
            if str(arrays["key"]) != self.key_json:
                raise CorruptDataError(
                    f"{self.path} holds scores of other settings ({arrays['key']})"
                )
        except CorruptDataError as exc:
            if report:
                warnings.warn(
                    f"zero-cost score cache {self.path} is unusable ({exc}); "
                    f"recomputing its scores and rewriting it",
                    RuntimeWarning,
                    stacklevel=4,
                )
            return None
        return arrays["scores"].astype(np.float64), arrays["known"].astype(bool)

    def _merge_disk(self, report: bool = False) -> None:
        found = self._read_disk(report)
        if found is None:
            return
        scores, known = found
        new = known & ~self.known
        self.scores[new] = scores[new]
        self.known |= new

    def flush(self) -> Path | None:
        """Write the scores to the cache file now (if any were computed since).

        Merges what other processes wrote meanwhile, then replaces the file
        atomically. Returns the file written, or ``None`` when nothing was due.
        """
        with self._lock:
            if not (self.use_disk and self._dirty):
                return None
            self._merge_disk()
            write_table(
                self.path,
                {
                    "scores": self.scores,
                    "known": self.known,
                    "key": np.asarray(self.key_json),
                },
            )
            self._dirty = False
            self._last_flush = time.monotonic()
            return self.path

    # -------------------------------------------------------------- compute
    def _get_batch(self) -> tuple[Any, Any]:
        if self._batch is None:
            s = self.settings
            size = DATASET_SHAPES[s.dataset][1]
            if s.images is None:
                # Only the input shape matters: two all-zero images.
                images = np.zeros((2, 3, size, size), dtype=np.float32)
                self._batch = (images, np.zeros(2, dtype=np.int64))
            elif s.images.startswith(CIFAR_PREFIX):
                from nasgym.oneshot.datasets import load_cifar

                folder = s.images[len(CIFAR_PREFIX) :].rsplit(":", 1)[0]
                split = load_cifar(s.dataset, folder, seed=s.seed)
                self._batch = split.batch(s.batch_size, seed=s.seed)
            else:
                from nasgym.oneshot.datasets import load_images

                split = load_images(s.images, size=size, channels=3, seed=s.seed)
                self._batch = split.batch(s.batch_size, seed=s.seed)
        return self._batch

    def ensure(
        self, codes: IntArray, *, progress: Callable[[int], None] | None = None
    ) -> None:
        """Compute the scores of ``codes`` not known yet."""
        with self._lock:
            missing = np.unique(codes[~self.known[codes]])
            if missing.size == 0:
                return
            from nasgym.oneshot.zero_cost import score_many
            from nasgym.spaces.nb201 import NB201Space

            s = self.settings
            space = NB201Space()
            archs = [space.from_code(int(c)) for c in missing]
            bar = _progress_bar(missing.size, s) if progress is None else None
            start = time.perf_counter()
            try:
                values = score_many(
                    archs,
                    [s.proxy],
                    batch=self._get_batch(),
                    device=self.device,
                    seed=s.seed,
                    C=s.C,
                    N=s.N,
                    num_classes=DATASET_SHAPES[s.dataset][0],
                    progress=progress or (bar.update_to if bar else None),
                )[s.proxy]
            finally:
                if bar is not None:
                    bar.close()
            self.compute_seconds += time.perf_counter() - start
            self.scores[missing] = values
            self.known[missing] = True
            self.computed += int(missing.size)
            self._dirty = True
            if time.monotonic() - self._last_flush >= FLUSH_INTERVAL_S:
                self.flush()


class _Bar:
    def __init__(self, total: int, settings: ZeroCostSettings) -> None:
        from tqdm.auto import tqdm

        self.bar = tqdm(
            total=total,
            desc=f"zc:{settings.proxy} {settings.dataset} (cached in "
            f"{settings.cache_path().parent})",
            unit="cell",
            leave=False,
        )

    def update_to(self, done: int) -> None:
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        self.bar.close()


def _progress_bar(total: int, settings: ZeroCostSettings) -> _Bar | None:
    return _Bar(total, settings) if total >= PROGRESS_MIN_CELLS else None


_STORES: dict[str, ScoreStore] = {}
_STORES_LOCK = threading.Lock()


def store_for(settings: ZeroCostSettings, *, device: Any) -> ScoreStore:
    """The process-wide :class:`ScoreStore` of ``settings`` (created on first use)."""
    digest = settings.digest()
    with _STORES_LOCK:
        store = _STORES.get(digest)
        if store is None:
            store = _STORES[digest] = ScoreStore(settings, device=device)
        return store


def clear_memory() -> None:
    """Flush and forget every in-memory store (the next env rereads the disk cache)."""
    with _STORES_LOCK:
        for store in _STORES.values():
            store.flush()
        _STORES.clear()


def _image_key(images: str, dataset: str) -> str:
    """Check ``images`` and return its cache-key form."""
    if images in IMAGE_SETS:
        return images
    if not isinstance(images, str) or not Path(images).expanduser().is_dir():
        raise UnknownOptionError(
            f"unknown zc_images {images!r}; valid choices: "
            f"{', '.join(repr(i) for i in IMAGE_SETS)}, or the path of a local "
            f"torchvision-format CIFAR directory (for the cifar10/cifar100 envs)"
        )
    if dataset not in ("cifar10", "cifar100"):
        raise UnknownOptionError(
            f"zc_images={images!r} is a CIFAR directory, but the env's dataset is "
            f"{dataset!r}: nasgym has no ImageNet16-120 reader; use 'mnist5k' or "
            f"'digits'"
        )
    from nasgym.oneshot.datasets import _cifar_folder

    folder = _cifar_folder(dataset, images).resolve()
    size = sum(f.stat().st_size for f in sorted(folder.iterdir()) if f.is_file())
    return f"{CIFAR_PREFIX}{folder}:{size}"


def _transform(proxy: str, score: float) -> float:
    if proxy in LOG_PROXIES:
        return math.log(score) if score > 0 else -math.inf
    return score


def _phi(z: float) -> float:
    return 0.5 * math.erfc(-z / math.sqrt(2.0))


class ZeroCostReward:
    """A zero-cost proxy of NB201 cells as a :class:`nasgym.rewards.RewardSignal`.

    See the module docstring for the scores, the normalisation and the cache.

    Args:
        proxy: A name of :data:`PROXIES`.
        dataset: ``"cifar10"``, ``"cifar100"`` or ``"ImageNet16-120"``.
        device: ``"cpu"`` or a CUDA device.
        seed: Seeds the networks' initialisation and the image batch.
        images: ``"mnist5k"``, ``"digits"`` or a CIFAR directory (torchvision format,
            CIFAR-10/100 datasets only); data-dependent proxies only.
        batch_size: Images in the batch (data-dependent proxies only).
        C: Channels of the first stage (16 in NB201).
        N: Cells per stage (5 in NB201).
        reference_size: Cells of the reference sample behind the normalisation
            (its first ``reference_size`` codes; the default for envs).

    Raises:
        UnknownOptionError: Unknown proxy, dataset, image set or device string, or a
            bad seed or batch size.
        DeviceUnavailableError: CUDA requested but not available.
    """

    info_key = "zc_score"
    value_key = "zc_value"

    def __init__(
        self,
        proxy: str,
        *,
        dataset: str = "cifar10",
        device: str = "cpu",
        seed: int = 0,
        images: str = "mnist5k",
        batch_size: int = 16,
        C: int = 16,
        N: int = 5,
        reference_size: int = REFERENCE_SIZE,
    ) -> None:
        if proxy not in PROXIES:
            raise unknown_option("zero-cost proxy", proxy, PROXIES)
        if dataset not in DATASET_SHAPES:
            raise unknown_option("NB201 dataset", dataset, DATASET_SHAPES)
        image_key = _image_key(images, dataset)  # checked for every proxy
        for name, value, low in (
            ("zc_seed", seed, 0),
            ("zc_batch_size", batch_size, 2),
            ("C", C, 1),
            ("N", N, 1),
            ("reference_size", reference_size, 2),
        ):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise UnknownOptionError(f"{name} must be an integer, got {value!r}")
            if value < low:
                raise UnknownOptionError(f"{name} must be >= {low}, got {value!r}")
        from nasgym.oneshot.device import resolve_device

        resolved = resolve_device(device)
        dependent = proxy in DATA_DEPENDENT
        self.proxy = proxy
        self.name = PREFIX + proxy
        self.settings = ZeroCostSettings(
            proxy=proxy,
            dataset=dataset,
            images=image_key if dependent else None,
            batch_size=int(batch_size) if dependent else 0,
            seed=int(seed),
            C=int(C),
            N=int(N),
            device=resolved.type,
        )
        self.store = store_for(self.settings, device=resolved)
        self.reference = reference_codes(int(reference_size))
        self.store.ensure(self.reference)
        self.mu, self.sigma = self._fit()

    def _fit(self) -> tuple[float, float]:
        t = np.array(
            [
                _transform(self.proxy, float(s))
                for s in self.store.scores[self.reference]
            ]
        )
        t = t[np.isfinite(t)]
        if t.size < 2 or float(t.std()) == 0.0:
            raise CorruptDataError(
                f"zc:{self.proxy}: the reference sample has no spread of finite "
                f"scores ({t.tolist()}); delete {self.store.path} and retry"
            )
        return float(t.mean()), float(t.std())

    # ----------------------------------------------------------- the signal
    def score(self, code: int) -> float:
        """Raw proxy score of one code (computed on first use)."""
        store = self.store
        if not store.known[code]:
            store.ensure(np.array([code], dtype=np.int64))
        value: float = store.scores.item(code)
        return value

    def value(self, code: int) -> float:
        """Normalised score of one code, in ``[0, 1]``."""
        t = _transform(self.proxy, self.score(code))
        if t == -math.inf:
            return 0.0
        return _phi((t - self.mu) / self.sigma)

    def scores(self, codes: IntArray) -> FloatArray:
        """Raw proxy scores of ``codes``."""
        codes = np.asarray(codes, dtype=np.int64)
        self.store.ensure(codes)
        result: FloatArray = self.store.scores[codes]
        return result

    def values(self, codes: IntArray) -> FloatArray:
        """Normalised scores of ``codes`` (the same floats as :meth:`value`)."""
        codes = np.asarray(codes, dtype=np.int64)
        self.store.ensure(codes)
        return np.array([self.value(int(c)) for c in codes], dtype=np.float64)

    def flush(self) -> Path | None:
        """Write newly computed scores to the cache file now."""
        return self.store.flush()

    def __repr__(self) -> str:
        return (
            f"ZeroCostReward({self.name!r}, dataset={self.settings.dataset!r}, "
            f"seed={self.settings.seed}, device={self.settings.device!r})"
        )


def reference_codes(size: int = REFERENCE_SIZE) -> IntArray:
    """The fixed reference sample behind the normalisation.

    The first ``size`` codes of one seeded permutation of all codes, so smaller
    samples are prefixes of larger ones.
    """
    perm = np.random.default_rng(REFERENCE_SEED).permutation(NUM_CELLS)
    codes: IntArray = perm[:size].astype(np.int64)
    return codes


def precompute(
    reward: ZeroCostReward, *, progress: Callable[[int, int], None] | None = None
) -> tuple[int, float]:
    """Score every NB201 cell of ``reward``'s setting and write the cache.

    Args:
        reward: The signal whose setting to fill.
        progress: Called with ``(done, total)`` cells of this call, after each chunk.

    Returns:
        ``(cells computed now, seconds)``; cells already cached are skipped.
    """
    store = reward.store
    todo = np.flatnonzero(~store.known).astype(np.int64)
    start = time.perf_counter()
    chunk = 256
    for begin in range(0, todo.size, chunk):
        part = todo[begin : begin + chunk]
        store.ensure(part, progress=lambda _: None)
        if progress is not None:
            progress(begin + part.size, todo.size)
    store.flush()
    return int(todo.size), time.perf_counter() - start


def precompute_report(
    proxy: str,
    *,
    dataset: str = "cifar10",
    device: str = "cpu",
    seed: int = 0,
    images: str = "mnist5k",
    batch_size: int = 16,
    progress: bool = True,
) -> str:
    """Fill the cache of one setting for all 15,625 cells (``nasgym data zc``).

    Args:
        proxy: A name of :data:`PROXIES`.
        dataset: The NB201 dataset the envs will use.
        device: ``"cpu"`` or a CUDA device.
        seed: ``zc_seed`` of the envs.
        images: ``zc_images`` of the envs.
        batch_size: ``zc_batch_size`` of the envs.
        progress: Show a progress bar on stderr.

    Returns:
        A one-paragraph summary: the file, cells computed, seconds.
    """
    reward = ZeroCostReward(
        proxy,
        dataset=dataset,
        device=device,
        seed=seed,
        images=images,
        batch_size=batch_size,
    )
    from tqdm.auto import tqdm

    todo = int(np.count_nonzero(~reward.store.known))
    with tqdm(
        total=todo, unit="cell", desc=f"zc:{proxy} {dataset}", disable=not progress
    ) as bar:
        computed, seconds = precompute(
            reward, progress=lambda done, _: bar.update(done - bar.n)
        )
    per = f", {seconds / computed * 1000:.1f} ms per cell" if computed else ""
    return (
        f"zc:{proxy} on {dataset} (seed {seed}, device {reward.settings.device}): "
        f"{computed:,} cells computed in {seconds:.1f} s{per}; "
        f"{NUM_CELLS - computed:,} were cached; all {NUM_CELLS:,} in "
        f"{reward.store.path}"
    )
