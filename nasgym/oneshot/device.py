"""Torch devices of the one-shot code: checked once, with an error that names the fix.

Importing this module imports torch.
"""

from __future__ import annotations

from nasgym.error import Error, require, unknown_option

try:
    import torch
except ImportError:  # raise the error that names the extra
    require("torch", extra="oneshot", purpose="nasgym's one-shot code")
    raise


class DeviceUnavailableError(Error, RuntimeError):
    """A torch device was requested that this machine does not have."""


def resolve_device(device: str | torch.device) -> torch.device:
    """Check and return a torch device.

    Args:
        device: ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ... or a ``torch.device``.

    Returns:
        The device.

    Raises:
        DeviceUnavailableError: CUDA was requested but is not available.
        UnknownOptionError: ``device`` is not a device string.
    """
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise unknown_option("device", device, ("cpu", "cuda", "cuda:N")) from exc
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise DeviceUnavailableError(
                f"device {str(device)!r} requested but CUDA is not available "
                f"(torch {torch.__version__}, built with CUDA "
                f"{torch.version.cuda}); pass device='cpu'"
            )
        index = resolved.index or 0
        if index >= torch.cuda.device_count():
            raise DeviceUnavailableError(
                f"device {str(device)!r} requested but only "
                f"{torch.cuda.device_count()} CUDA device(s) exist"
            )
    elif resolved.type != "cpu":
        raise unknown_option("device", device, ("cpu", "cuda", "cuda:N"))
    return resolved


__all__ = ["DeviceUnavailableError", "resolve_device"]
