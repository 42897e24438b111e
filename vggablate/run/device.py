"""Which device a request names ('auto', 'cpu', 'cuda', 'cuda:N'). torch is imported only when CUDA matters."""

from __future__ import annotations

from vggablate.checks.choices import or_list
from vggablate.errors import UsageError
from vggablate.schema import DEVICE_CHOICES


def resolve_device(requested: str, check_cuda: bool = True) -> str:
    """Return the device a request names: 'auto' is cuda where torch sees one, else cpu.

    ``cuda:N`` is accepted. ``check_cuda=False`` leaves the CUDA check to where the work runs
    (a Ray worker). torch is imported here, not at module level, and only when CUDA matters.
    """
    base, _, index = requested.partition(":")
    if requested not in DEVICE_CHOICES and not (base == "cuda" and index.isdigit()):
        raise UsageError(f"unknown device {requested!r}; choose {or_list(DEVICE_CHOICES)}")
    if requested == "cpu":
        return requested
    import torch

    has_cuda = torch.cuda.is_available()
    if requested == "auto":
        return "cuda" if has_cuda else "cpu"
    if check_cuda and not has_cuda:
        raise UsageError(f"--device {requested} given, but torch sees no CUDA device; use --device cpu (or auto)")
    return requested
