"""Zero-cost proxies, the NB201 network, FreeNAS and the offline image sets."""

from __future__ import annotations

import ast
import json
import lzma
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from nasgym import zero_cost as zc
from nasgym.error import InvalidArchitectureError, UnknownOptionError
from nasgym.oneshot.datasets import DATASETS, load_images
from nasgym.oneshot.nn.nb201 import Cell, NB201Network, Zero
from nasgym.spaces.nb201 import OPS, NB201Arch

ARCH = NB201Arch((3, 3, 2, 1, 4, 3))
TINY = {"C": 4, "N": 1}


def _batch(n: int = 6, size: int = 16, channels: int = 3, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, channels, size, size)).astype(np.float32)
    return x, np.arange(n) % 10


# ----------------------------------------------------------- hand-computed values
def test_params_and_flops_of_a_conv_linear_net() -> None:
    net = nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1, bias=False),
        nn.AvgPool2d(3, stride=1, padding=1),
        nn.Flatten(),
        nn.Linear(4 * 8 * 8, 5),
    )
    assert zc.params_of(net) == 4 * 3 * 9 + 256 * 5 + 5
    conv = 8 * 8 * 4 * 3 * 9
    pool = 4 * 8 * 8 * 9
    assert zc.flops_of(net, (3, 8, 8)) == conv + pool + 256 * 5


@pytest.mark.parametrize(
    "ops",
    [(3, 3, 2, 1, 4, 3), (0, 0, 0, 0, 0, 0), (4, 4, 4, 4, 4, 4), (2, 0, 3, 1, 4, 2)],
)
def test_closed_form_flops_match_the_hooks(ops: tuple[int, ...]) -> None:
    arch = NB201Arch(ops)
    for shape, classes in (((3, 32, 32), 10), ((1, 16, 16), 120)):
        net = NB201Network(arch, C=4, N=2, in_channels=shape[0], num_classes=classes)
        hooks = zc.flops_of(net, shape)
        closed = zc.nb201_flops(arch, C=4, N=2, input_shape=shape, num_classes=classes)
        assert closed == hooks


def test_synflow_of_a_two_layer_linear_net() -> None:
    net = nn.Sequential(nn.Linear(3, 2, bias=False), nn.Linear(2, 1, bias=False))
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[1.0, -2.0, 3.0], [-1.0, 0.0, 2.0]]))
        net[1].weight.copy_(torch.tensor([[2.0, -3.0]]))
    # |W1| row sums 6 and 3, R = 2*6 + 3*3 = 21; each layer's |theta*grad| sums to R.
    assert zc.synflow_of(net, (3,)) == pytest.approx(42.0)


def test_snip_grad_norm_fisher_of_a_linear_classifier() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(4, 5))
    y = np.array([0, 2, 1, 2])
    w = rng.normal(size=(3, 5))
    net = nn.Sequential(nn.Linear(5, 3, bias=False))
    with torch.no_grad():
        net[0].weight.copy_(torch.from_numpy(w))
    got = zc.gradient_scores(
        net, torch.from_numpy(x).float(), torch.from_numpy(y).long()
    )
    logits = x @ w.T
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    dlogits = (p - np.eye(3)[y]) / len(y)  # gradient of the mean cross-entropy
    grad = dlogits.T @ x
    assert got["snip"] == pytest.approx(np.abs(w * grad).sum(), rel=1e-5)
    assert got["grad_norm"] == pytest.approx(np.linalg.norm(grad), rel=1e-5)
    fisher = 0.5 * ((logits * dlogits) ** 2).mean(axis=0).sum()
    assert got["fisher"] == pytest.approx(fisher, rel=1e-4)


def test_naswot_and_jacov_by_hand() -> None:
    # NASWOT: ReLU codes [1,1,0,0], [1,0,1,0], [0,0,0,1] give the agreement kernel
    # [[4,2,1],[2,4,1],[1,1,4]], whose determinant is 44.
    x = torch.tensor(
        [[1.0, 2.0, -1.0, -3.0], [0.5, -1.0, 2.0, -1.0], [-1.0, -2.0, -0.5, 4.0]]
    )
    relu_net = nn.Sequential(nn.ReLU(), nn.Linear(4, 2))
    assert zc.activation_scores(relu_net, x)["naswot"] == pytest.approx(math.log(44))
    # jacov: a linear map has the same Jacobian [1, 2, 3, 4] for every image, so the
    # correlation matrix is all ones with eigenvalues (3, 0, 0).
    linear = nn.Linear(4, 1, bias=False)
    with torch.no_grad():
        linear.weight.copy_(torch.tensor([[1.0, 2.0, 3.0, 4.0]]))
    got = zc.activation_scores(linear, x)
    k = zc.JACOV_K
    expected = -(math.log(3 + k) + 1 / (3 + k) + 2 * (math.log(k) + 1 / k))
    assert got["jacov"] == pytest.approx(expected, rel=1e-6)
    assert got["naswot"] == -math.inf  # no ReLU: the kernel is all zeros


# ------------------------------------------------------------------ the network
@pytest.mark.parametrize("op", OPS)
def test_network_builds_for_every_op(op: str) -> None:
    arch = NB201Arch((OPS.index(op),) * 6)
    net = NB201Network(arch, C=4, N=1, in_channels=1, num_classes=7)
    assert net(torch.zeros(2, 1, 16, 16)).shape == (2, 7)


def test_supernet_output_and_alphas() -> None:
    net = NB201Network(None, C=4, N=2, num_classes=3)
    assert net(torch.zeros(2, 3, 8, 8)).shape == (2, 3)
    assert net.alphas is not None and net.alphas.shape == (6, 5)
    assert all(p is not net.alphas for p in net.weight_parameters())
    assert len(net.weight_parameters()) == len(list(net.parameters())) - 1


def test_stage_layout() -> None:
    net = NB201Network(ARCH, C=4, N=2)
    cells = [m for m in net.layers if isinstance(m, Cell)]
    assert len(net.layers) == 3 * 2 + 2 and len(cells) == 6
    assert net.classifier.in_features == 16


def test_none_op_really_zeroes() -> None:
    x = torch.randn(2, 4, 8, 8, requires_grad=True)
    out = Zero()(x)
    assert torch.equal(out, torch.zeros_like(x))
    out.sum().backward()
    assert torch.equal(x.grad, torch.zeros_like(x))
    cell = Cell(NB201Arch((0,) * 6), 4)
    assert torch.equal(cell(x), torch.zeros_like(x))
    # With every path cut, the logits no longer depend on the input.
    net = NB201Network(NB201Arch((0, 0, 0, 0, 0, 0)), C=4, N=1).eval()
    logits = net(torch.randn(3, 3, 8, 8))
    assert torch.allclose(logits, logits[:1].expand_as(logits))


def test_params_match_published_nb201_count() -> None:
    # Official arch 11 has 0.802426 M parameters on CIFAR-10 (NATS-Bench record,
    # see docs/data.md#nas-bench-201).
    arch = NB201Arch.from_str(
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+"
        "|none~0|nor_conv_3x3~1|avg_pool_3x3~2|"
    )
    assert zc.params_of(NB201Network(arch)) == 802426


# ------------------------------------------------------------------ public API
def test_score_is_deterministic_under_a_seed() -> None:
    batch = _batch()
    first = zc.score(ARCH, "snip", batch=batch, seed=1, **TINY)
    assert zc.score(ARCH, "snip", batch=batch, seed=1, **TINY) == first
    assert zc.score(ARCH, "snip", batch=batch, seed=2, **TINY) != first
    torch.manual_seed(123)
    state = torch.random.get_rng_state()
    zc.score(ARCH, "synflow", batch=batch, seed=1, **TINY)
    assert torch.equal(torch.random.get_rng_state(), state)  # global RNG untouched


def test_score_many_matches_score_one_at_a_time() -> None:
    batch = _batch()
    archs = [ARCH, NB201Arch((1, 0, 4, 2, 0, 3))]
    timings: dict[str, float] = {}
    done: list[int] = []
    many = zc.score_many(
        archs, zc.PROXIES, batch=batch, timings=timings, progress=done.append, **TINY
    )
    assert done == [1, 2]
    assert set(timings) == {"+".join(g) for g in zc.GROUPS}
    for proxy in zc.PROXIES:
        for i, arch in enumerate(archs):
            one = zc.score(arch, proxy, batch=batch, **TINY)
            assert many[proxy][i] == pytest.approx(one, rel=1e-9), proxy
    # The string form is accepted too.
    assert zc.score(ARCH.to_str(), "params", batch=batch, **TINY) == many["params"][0]


def test_dead_cell_scores() -> None:
    dead = NB201Arch((0, 0, 0, 0, 0, 0))
    got = zc.score_many([dead], batch=_batch(), **TINY)
    assert got["synflow"][0] == 0.0
    assert got["snip"][0] == 0.0
    assert got["jacov"][0] == -math.inf
    assert got["naswot"][0] == -math.inf


def test_unknown_proxy_lists_the_valid_ones() -> None:
    with pytest.raises(UnknownOptionError, match=r"synflow.*naswot"):
        zc.score(ARCH, "zen", batch=_batch(), **TINY)


def test_cuda_without_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(zc.DeviceUnavailableError, match="device='cpu'"):
        zc.score(ARCH, "params", batch=_batch(), device="cuda", **TINY)
    with pytest.raises(zc.DeviceUnavailableError):
        zc.freenas_search(device="cuda:0", **TINY)
    with pytest.raises(UnknownOptionError, match="device"):
        zc.resolve_device("tpu")


@pytest.mark.gpu
def test_cuda_matches_cpu() -> None:
    batch = _batch()
    cpu = zc.score(ARCH, "params", batch=batch, **TINY)
    assert zc.score(ARCH, "params", batch=batch, device="cuda", **TINY) == cpu
    syn = zc.score(ARCH, "synflow", batch=batch, **TINY)
    gpu = zc.score(ARCH, "synflow", batch=batch, device="cuda", **TINY)
    assert gpu == pytest.approx(syn, rel=1e-6)


@pytest.mark.parametrize(
    "arch", [(1, 2, 3), "|none~0|+|bogus~0|none~1|+|none~0|none~1|none~2|", 7]
)
def test_bad_arch(arch: object) -> None:
    with pytest.raises(InvalidArchitectureError):
        zc.score(arch, "params", batch=_batch(), **TINY)  # type: ignore[arg-type]
    with pytest.raises(InvalidArchitectureError):
        NB201Network(arch)  # type: ignore[arg-type]


def test_bad_batch() -> None:
    x, y = _batch()
    with pytest.raises(ValueError, match="pair"):
        zc.score(ARCH, "snip", batch=x, **TINY)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"\(B, C, H, W\)"):
        zc.score(ARCH, "snip", batch=(x[0], y), **TINY)
    with pytest.raises(ValueError, match="labels must lie"):
        zc.score(ARCH, "snip", batch=(x, y + 10), **TINY)


# --------------------------------------------------------------------- FreeNAS
def test_freenas_picks_the_argmax_per_edge() -> None:
    result = zc.freenas_search(input_shape=(3, 8, 8), **TINY)
    assert result.scores.shape == (6, 5) and result.seconds > 0 and result.passes == 1
    assert np.all(result.scores[:, OPS.index("none")] == 0)
    assert np.all(np.delete(result.scores, OPS.index("none"), axis=1) > 0)
    assert result.arch.ops == tuple(int(i) for i in result.scores.argmax(axis=1))
    again = zc.freeflow_scores(input_shape=(3, 8, 8), **TINY)
    np.testing.assert_array_equal(again, result.scores)
    sums = zc.freeflow_arch_scores([ARCH, result.arch], result.scores)
    assert sums[0] == pytest.approx(result.scores[np.arange(6), list(ARCH.ops)].sum())
    assert sums[1] == pytest.approx(result.scores.max(axis=1).sum())
    with pytest.raises(ValueError, match="shape"):
        zc.freeflow_arch_scores([ARCH], result.scores[:3])


def test_freeflow_mask_and_iterative_pruning() -> None:
    shape = (3, 8, 8)
    alive = np.ones((6, 5), dtype=bool)
    alive[:, OPS.index("nor_conv_3x3")] = False
    masked = zc.freeflow_scores(input_shape=shape, alive=alive, **TINY)
    assert np.all(masked[~alive] == 0) and np.all(masked[:, 1:][alive[:, 1:]] > 0)
    full = zc.freeflow_scores(input_shape=shape, **TINY)
    assert not np.allclose(masked[alive], full[alive])  # pruning changes the flow
    result = zc.freenas_search(input_shape=shape, iterative=True, **TINY)
    assert result.passes == 4
    # The last round scores exactly two ops per edge (`none`, which scores 0, goes
    # first); the cell takes the larger.
    assert np.all(np.count_nonzero(result.scores, axis=1) == 2)
    assert np.all(result.scores[:, OPS.index("none")] == 0)
    picked = result.scores[np.arange(6), list(result.arch.ops)]
    assert np.all(picked == result.scores.max(axis=1))
    again = zc.freenas_search(input_shape=shape, iterative=True, **TINY)
    assert again.arch == result.arch
    with pytest.raises(ValueError, match="alive"):
        zc.freeflow_scores(input_shape=shape, alive=np.ones((6, 4), bool), **TINY)


# -------------------------------------------------------------------- datasets
@pytest.mark.parametrize("name", DATASETS)
def test_load_images(name: str) -> None:
    split = load_images(name, size=16, channels=3, seed=0)
    n = len(split.y_train) + len(split.y_val)
    assert n == {"digits": 1797, "mnist5k": 5000}[name]
    assert split.x_train.shape[1:] == (3, 16, 16) and split.x_train.dtype == np.float32
    assert abs(float(split.x_train.mean())) < 1e-4
    counts = np.bincount(split.y_val, minlength=10)
    totals = counts + np.bincount(split.y_train, minlength=10)
    assert np.all(np.abs(counts - 0.2 * totals) <= 0.5 + 1e-9)  # stratified
    again = load_images(name, size=16, channels=3, seed=0)
    np.testing.assert_array_equal(again.y_val, split.y_val)
    other = load_images(name, size=16, channels=3, seed=1)
    assert not np.array_equal(other.x_val, split.x_val)
    _, y = split.batch(5, seed=2)
    np.testing.assert_array_equal(split.batch(5, seed=2)[1], y)
    tx, ty = split.torch_batch(5, split="val", seed=2)
    assert tuple(tx.shape) == (5, 3, 16, 16) and ty.dtype == torch.int64


def test_load_images_errors() -> None:
    with pytest.raises(UnknownOptionError, match="digits"):
        load_images("cifar10")
    with pytest.raises(ValueError, match="divide"):
        load_images("digits", size=12)
    split = load_images("digits", size=8, channels=1)
    with pytest.raises(UnknownOptionError):
        split.batch(4, split="test")
    with pytest.raises(ValueError, match="batch size"):
        split.batch(10**6)


# ------------------------------------------------------------------- real data
@pytest.fixture(scope="module")
def zc_reference(data_root: Path) -> dict:
    from conftest import missing_data

    path = data_root / "naslib-zc" / "zc_nasbench201.json.xz"
    if not path.is_file():
        missing_data(f"{path} is missing")
    with lzma.open(path) as handle:
        return json.load(handle)["nasbench201"]["cifar10"]


@pytest.mark.data
def test_synflow_and_params_agree_with_naslib_reference(zc_reference: dict) -> None:
    from scipy.stats import spearmanr

    keys = list(zc_reference)[:20]
    archs = [NB201Arch.from_naslib(ast.literal_eval(k)) for k in keys]
    params = zc.score_many(archs, ["params"], batch=_batch(2, 32))["params"]
    ref_params = np.array([zc_reference[k]["params"] for k in keys]) * 1e6
    np.testing.assert_allclose(params, ref_params, atol=0.5)
    # SynFlow on a narrower, shallower network (C=8, N=1) to stay fast on CPU.
    scores = zc.score_many(archs, ["synflow"], batch=_batch(2, 32), C=8, N=1)
    ref = np.array([zc_reference[k]["synflow"] for k in keys])
    rho = spearmanr(scores["synflow"], ref).statistic
    assert rho > 0.5, rho
