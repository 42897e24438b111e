"""The public entry point: create_model(name_or_cfg, **options), and weight loading."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from vggablate.arch.archs import TORCHVISION_ARCHS
from vggablate.arch.registry import get_arch, is_registered
from vggablate.arch.spec import ArchSpec, canonical_cfg, looks_like_cfg, parse_cfg, validate
from vggablate.checks.names import check_spec_name
from vggablate.errors import UsageError

if TYPE_CHECKING:  # torch is imported where a model is built: resolve_spec (list, show) needs none
    from torch import nn

# The options a caller may override; the rest of ArchSpec is identity, not an option.
OPTIONS = ("batch_norm", "width", "in_channels", "num_classes", "head", "dropout")


def resolve_spec(name_or_cfg: str | Sequence[int | str] | ArchSpec, **options: Any) -> ArchSpec:
    """Turn a registered name, a cfg string or list, or a spec, plus options, into a valid spec."""
    unknown = set(options) - set(OPTIONS)
    if unknown:
        raise UsageError(f"unknown option(s) {sorted(unknown)}; allowed: {', '.join(OPTIONS)}")
    if isinstance(name_or_cfg, ArchSpec):
        spec = name_or_cfg
        check_spec_name(spec.name, spec.cfg_str)  # a spec made by hand meets the registry's name rule
    elif isinstance(name_or_cfg, str) and (is_registered(name_or_cfg) or not looks_like_cfg(name_or_cfg)):
        spec = get_arch(name_or_cfg)
    else:
        spec = ArchSpec(name=canonical_cfg(name_or_cfg), cfg=parse_cfg(name_or_cfg), description="custom cfg")
    given = {k: v for k, v in options.items() if v is not None}
    return validate(replace(spec, **given))


def create_model(
    name_or_cfg: str | Sequence[int | str] | ArchSpec,
    *,
    weights: str | None = None,
    **options: Any,
) -> nn.Module:
    """Build a model from a registered name or a cfg; optionally load weights.

    ``weights`` is a torchvision weights name (``"IMAGENET1K_V1"``, downloaded once into
    the torch hub cache) or the path of a local state-dict file.
    """
    from vggablate.arch.model import build_model

    spec = resolve_spec(name_or_cfg, **options)
    model = build_model(spec)
    if weights is not None:
        load_weights(model, spec, weights)
    return model


def load_weights(model: nn.Module, spec: ArchSpec, weights: str) -> None:
    """Load torchvision's published weights by name, or a local state dict by path."""
    if os.path.sep in weights or weights.endswith((".pth", ".pt")) or os.path.exists(weights):
        state = _read_state_dict(weights)
    else:
        state = _torchvision_state_dict(spec, weights)
    check_state_dict(model, state, source=weights)
    model.load_state_dict(state, strict=True)


def _read_state_dict(path: str) -> dict:
    import torch

    if not os.path.isfile(path):
        raise UsageError(f"weights file {path!r} does not exist; give a saved state dict (.pth)")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for a bad file
        raise UsageError(f"cannot read weights file {path!r} as a state dict: {type(exc).__name__}") from None
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]  # a training checkpoint that wraps the state dict
    if not isinstance(state, dict):
        raise UsageError(f"weights file {path!r} holds a {type(state).__name__}, not a state dict")
    return state


def _torchvision_state_dict(spec: ArchSpec, weights: str) -> dict:
    import torchvision

    standard = (
        spec.name in TORCHVISION_ARCHS
        and spec.cfg == get_arch(spec.name).cfg
        and (spec.head, spec.num_classes, spec.width, spec.in_channels) == ("imagenet", 1000, 1.0, 3)
    )
    if not standard:
        raise UsageError(
            f"torchvision publishes {weights!r} weights only for {', '.join(sorted(TORCHVISION_ARCHS))} "
            "with the imagenet head, 1000 classes, 3 input channels and width 1; use a local state dict"
        )
    try:
        entry = torchvision.models.get_weight(f"{spec.name.upper()}_Weights.{weights}")
    except (ValueError, KeyError, AttributeError):
        raise UsageError(f"unknown weights {weights!r} for {spec.name}; torchvision has IMAGENET1K_V1") from None
    return entry.get_state_dict(progress=True)


def check_state_dict(model: nn.Module, state: dict, source: str) -> None:
    """Raise a clear error when a state dict's keys or shapes differ from the model's."""
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    extra = [k for k in state if k not in own]
    shapes = [k for k in own if k in state and tuple(state[k].shape) != tuple(own[k].shape)]
    if missing or extra or shapes:
        parts = []
        if missing:
            parts.append(f"missing {len(missing)} key(s) e.g. {missing[0]}")
        if extra:
            parts.append(f"unexpected {len(extra)} key(s) e.g. {extra[0]}")
        if shapes:
            k = shapes[0]
            parts.append(f"{len(shapes)} shape mismatch(es) e.g. {k}: {tuple(state[k].shape)} vs {tuple(own[k].shape)}")
        raise UsageError(f"weights {source!r} do not fit this model: {'; '.join(parts)}")
