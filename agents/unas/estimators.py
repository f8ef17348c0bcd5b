"""UNAS's gradient estimators for a factorised categorical distribution.

The architecture distribution is one categorical ``q_e = softmax(logits[e])`` per row
``e`` of a ``(rows, K)`` logit tensor (for NB201: 6 edges x 5 ops). For a loss ``f``
that may be non-differentiable in the discrete architecture ``z``, both estimators
build a *surrogate* scalar whose gradient in ``logits`` is an unbiased estimate of
``d E_q[f(z)] / d logits``:

* ``"rebar"`` (UNAS's unified estimator, a REBAR construction). With Gumbel noise
  ``g``, ``s = log q + g``, ``z = argmax s`` and the relaxation
  ``zeta = softmax(s / tau)``; a second relaxation ``zeta_tilde = softmax(s_tilde /
  tau)`` is drawn from the *conditional* ``r(s | z)`` (Gumbels conditioned on their
  argmax being ``z``, reparameterised in the logits with ``z`` held fixed). The
  surrogate is::

      log q(z) * sg[f(z) - f(zeta_tilde)] + f(zeta) - f(zeta_tilde)

  Its gradient is the REINFORCE term with ``f(zeta_tilde)`` as control variate, plus
  the reparameterised gradient through ``zeta``, minus the *correction term* (the
  reparameterised gradient through ``zeta_tilde``) that removes the control
  variate's bias. ``f`` at a relaxed point needs a differentiable extension (the
  dense supernet mixed by ``zeta``; the linear latency surrogate).
* ``"reinforce"``: ``log q(z) * sg[f(z) - b] + b`` with ``b`` an exponential moving
  average of past ``f(z)`` (updated after the sample, so ``b`` does not depend on
  it), which keeps the estimate unbiased.

:func:`exact_gradient` enumerates a small problem, for tests.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from nasgym.error import require

try:
    import torch
    from torch import Tensor
    from torch.nn import functional as F
except ImportError:  # raise the error that names the extra
    require("torch", extra="oneshot", purpose="UNAS")
    raise

#: Estimator names.
ESTIMATORS: tuple[str, ...] = ("rebar", "reinforce")

#: ``f`` of a discrete architecture: one index per row -> a scalar tensor (no
#: gradient needed).
DiscreteLoss = Callable[[Sequence[int]], Tensor]
#: ``f`` of a relaxed architecture: a ``(rows, K)`` point of the simplex -> a
#: differentiable scalar tensor.
RelaxedLoss = Callable[[Tensor], Tensor]

_TINY = 1e-20


def _uniform(shape: torch.Size, generator: torch.Generator, like: Tensor) -> Tensor:
    """Uniforms in (0, 1), drawn on the CPU (device-independent), as ``like``."""
    u = torch.rand(shape, generator=generator, dtype=torch.float64)
    return u.clamp(_TINY, 1.0 - 1e-16).to(like)


def gumbel_sample(
    logits: Tensor, generator: torch.Generator
) -> tuple[list[int], Tensor]:
    """A discrete sample ``z`` and its Gumbel-perturbed log-probabilities ``s``.

    Returns:
        ``z`` (the argmax of ``s`` per row) and ``s = log q + g`` (differentiable in
        ``logits``).
    """
    logp = F.log_softmax(logits, dim=-1)
    u = _uniform(logp.shape, generator, logp)
    s = logp - torch.log(-torch.log(u))
    z = [int(i) for i in s.detach().argmax(dim=-1).tolist()]
    return z, s


def conditional_gumbel(
    logits: Tensor, z: Sequence[int], generator: torch.Generator
) -> Tensor:
    """Gumbel-perturbed log-probabilities drawn given that their argmax is ``z``.

    The REBAR construction: with ``v ~ U(0, 1)`` per entry and ``p = softmax(logits)``,
    the chosen entry is ``-log(-log v_z)`` and every other one is
    ``-log(-log v_i / p_i - log v_z)``, which is below it by construction. The result
    is reparameterised: differentiable in ``logits`` for fixed ``z`` and ``v``.
    """
    logp = F.log_softmax(logits, dim=-1)
    v = _uniform(logp.shape, generator, logp)
    index = torch.as_tensor(list(z), device=logits.device).unsqueeze(-1)
    log_v = torch.log(v)
    log_vz = log_v.gather(-1, index)
    others = -torch.log(-log_v * torch.exp(-logp) - log_vz)
    top = -torch.log(-log_vz)
    mask = F.one_hot(index.squeeze(-1), logits.shape[-1]).to(torch.bool)
    return torch.where(mask, top.expand_as(others), others)


def log_prob(logits: Tensor, z: Sequence[int]) -> Tensor:
    """``log q(z) = sum_e log softmax(logits[e])[z_e]``."""
    logp = F.log_softmax(logits, dim=-1)
    index = torch.as_tensor(list(z), device=logits.device).unsqueeze(-1)
    return logp.gather(-1, index).sum()


def entropy(logits: Tensor) -> Tensor:
    """Entropy (nats) of the factorised distribution: the sum over rows."""
    logp = F.log_softmax(logits, dim=-1)
    return -(logp.exp() * logp).sum()


@dataclass
class Estimate:
    """One sample of an estimator.

    Attributes:
        surrogate: Scalar whose gradient in the logits is the estimate.
        z: The discrete sample.
        f_z: ``f(z)`` (a float).
        f_zeta: ``f(zeta)`` (``rebar`` only).
        f_zeta_tilde: ``f(zeta_tilde)`` (``rebar`` only).
    """

    surrogate: Tensor
    z: list[int]
    f_z: float
    f_zeta: float | None = None
    f_zeta_tilde: float | None = None


def rebar_estimate(
    logits: Tensor,
    discrete: DiscreteLoss,
    relaxed: RelaxedLoss,
    generator: torch.Generator,
    *,
    tau: float = 1.0,
) -> Estimate:
    """One sample of UNAS's unified (REBAR-style) estimator (see the module doc)."""
    z, s = gumbel_sample(logits, generator)
    zeta = F.softmax(s / tau, dim=-1)
    zeta_tilde = F.softmax(conditional_gumbel(logits, z, generator) / tau, dim=-1)
    f_z = discrete(z).detach()
    f_zeta = relaxed(zeta)
    f_tilde = relaxed(zeta_tilde)
    surrogate = log_prob(logits, z) * (f_z - f_tilde.detach()) + f_zeta - f_tilde
    return Estimate(
        surrogate, z, float(f_z), float(f_zeta.detach()), float(f_tilde.detach())
    )


def reinforce_estimate(
    logits: Tensor,
    discrete: DiscreteLoss,
    generator: torch.Generator,
    *,
    baseline: float,
) -> Estimate:
    """One sample of REINFORCE with the (EMA) ``baseline``: see the module doc.

    The caller updates the baseline with :attr:`Estimate.f_z` *after* this call.
    """
    z, _ = gumbel_sample(logits, generator)
    f_z = discrete(z).detach()
    surrogate = log_prob(logits, z) * (f_z - baseline) + baseline
    return Estimate(surrogate, z, float(f_z))


def exact_gradient(
    logits: Tensor, values: Callable[[tuple[int, ...]], float]
) -> tuple[float, Tensor]:
    """``E_q[f]`` and its exact gradient in ``logits``, by enumerating every ``z``.

    Only for small problems (``K ** rows`` terms).
    """
    leaf = logits.detach().clone().requires_grad_(True)
    rows, k = leaf.shape
    total = leaf.new_zeros(())
    for z in itertools.product(range(k), repeat=rows):
        total = total + log_prob(leaf, z).exp() * values(z)
    (grad,) = torch.autograd.grad(total, [leaf])
    return float(total.detach()), grad


__all__ = [
    "ESTIMATORS",
    "DiscreteLoss",
    "Estimate",
    "RelaxedLoss",
    "conditional_gumbel",
    "entropy",
    "exact_gradient",
    "gumbel_sample",
    "log_prob",
    "rebar_estimate",
    "reinforce_estimate",
]
