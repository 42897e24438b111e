"""ArchSpec, the cfg grammar (parse / format) and validation.

Grammar: comma-separated tokens.
  ``C``        a 3x3 conv with C output channels (``64``)
  ``CkK``      a KxK conv, K odd (``512k5``, ``512k1``)
  ``...xN``    the token repeated N times (``256x3``, ``512k5x2``)
  ``M``        2x2 max-pool, stride 2
  ``LRN``      local response norm (A-LRN; ``L`` accepted)
The canonical form collapses runs of equal convs into ``xN``, omits ``k3`` and
spells pools and LRN as ``M`` and ``LRN``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from vggablate.checks.choices import check_choice
from vggablate.errors import UsageError
from vggablate.schema import HEADS

# torchvision's classifier: 512 x 7 x 7 -> 4096 -> 4096 -> classes.
IMAGENET_POOL = 7
IMAGENET_HIDDEN = 4096
# ASCII digits only: int() would also read '٣' (and a 5,000-digit count would raise from int() itself).
_CONV_RE = re.compile(r"^(-?\d+)(?:k(\d+))?(?:x(\d+))?$", re.IGNORECASE | re.ASCII)
_REPEAT_RE = re.compile(r"^(M|LRN|L)(?:x(\d+))?$", re.IGNORECASE | re.ASCII)
# Bounds that keep a hostile cfg ('64x99999999999') from exhausting memory while it is parsed; far
# above any VGG (vgg19: 21 layers, 512 channels, 3x3 kernels).
MAX_LAYERS = 1000
MAX_CHANNELS = 1 << 20
MAX_KERNEL = 255


@dataclass(frozen=True)
class Layer:
    """One cfg element: a conv (channels, kernel), a max-pool or an LRN."""

    kind: str  # "conv" | "pool" | "lrn"
    channels: int = 0
    kernel: int = 3

    def token(self) -> str:
        """Return the canonical token of this layer, without repeats."""
        if self.kind == "pool":
            return "M"
        if self.kind == "lrn":
            return "LRN"
        return f"{self.channels}" if self.kernel == 3 else f"{self.channels}k{self.kernel}"


Cfg = tuple[Layer, ...]


@dataclass(frozen=True)
class ArchSpec:
    """A VGG-family network, fully specified: everything build_model needs."""

    name: str
    cfg: Cfg
    batch_norm: bool = False
    width: float = 1.0  # channel multiplier applied at build time, rounded, never below 1
    in_channels: int = 3
    num_classes: int = 1000
    head: str = "imagenet"  # imagenet: torchvision's 7x7 pool + 4096-4096 MLP; gap: global pool + linear
    dropout: float = 0.5  # torchvision's default for the imagenet head
    description: str = ""
    matched: str = ""  # what a compute-matched rewrite was matched on, empty otherwise
    tags: tuple[str, ...] = field(default=())

    def channels(self) -> Cfg:
        """Return the cfg with the width multiplier applied to every conv."""
        return scale_cfg(self.cfg, self.width)

    @property
    def cfg_str(self) -> str:
        """The canonical cfg string."""
        return format_cfg(self.cfg)


def scale_cfg(cfg: Cfg, width: float) -> Cfg:
    """Scale every conv's channels by a width multiplier: rounded, never below 1 (build time and compute matching)."""
    return tuple(
        replace(layer, channels=max(1, int(round(layer.channels * width)))) if layer.kind == "conv" else layer
        for layer in cfg
    )


def _parse_token(tok: str, pos: int) -> list[Layer]:
    tok = tok.strip()
    if not tok:
        raise UsageError(f"cfg token {pos + 1} is empty; separate tokens with single commas")
    m = _REPEAT_RE.match(tok)
    if m:
        kind = "pool" if m.group(1).upper() == "M" else "lrn"
        return [Layer(kind)] * _repeat(m.group(2), tok)
    m = _CONV_RE.match(tok)
    if not m:
        raise UsageError(
            f"unknown cfg token {tok!r} (token {pos + 1}); use C, CkK, CxN, CkKxN, M or LRN, e.g. '64,M,128x2,M,512k5'"
        )
    channels, kernel = _small_int(m.group(1)), _small_int(m.group(2) or "3")
    if not 1 <= channels <= MAX_CHANNELS:
        bound = ">= 1" if channels < 1 else f"<= {MAX_CHANNELS:,}"
        raise UsageError(f"cfg token {tok!r}: channels must be {bound}")
    if kernel <= 0 or kernel % 2 == 0 or kernel > MAX_KERNEL:
        raise UsageError(f"cfg token {tok!r}: kernel must be odd, from 1 to {MAX_KERNEL} (1, 3, 5, 7, ...)")
    return [Layer("conv", channels, kernel)] * _repeat(m.group(3), tok)


def _small_int(digits: str) -> int:
    # Every bound above is far below 10**9: a longer number is simply out of range.
    return int(digits) if len(digits.lstrip("-0")) <= 9 else (-1 if digits.startswith("-") else 10**9)


def _repeat(text: str | None, tok: str) -> int:
    n = 1 if text is None else _small_int(text)
    if not 1 <= n <= MAX_LAYERS:
        raise UsageError(f"cfg token {tok!r}: repeat count must be {'>= 1' if n < 1 else f'<= {MAX_LAYERS}'}")
    return n


def parse_cfg(cfg: str | Sequence[int | str]) -> Cfg:
    """Parse a cfg string or torchvision's list form (``[64, "M", ...]``) into layers."""
    if isinstance(cfg, str):
        tokens = cfg.split(",") if cfg.strip() else []
    else:
        tokens = [str(t) for t in cfg]
    if not tokens:
        raise UsageError("empty cfg; give at least one conv, e.g. '64,M,128,M'")
    if len(tokens) > MAX_LAYERS:
        raise UsageError(f"cfg has {len(tokens):,} tokens; at most {MAX_LAYERS} layers")
    layers: list[Layer] = []
    for pos, tok in enumerate(tokens):
        layers.extend(_parse_token(tok, pos))
        if len(layers) > MAX_LAYERS:
            raise UsageError(f"cfg has more than {MAX_LAYERS} layers (token {pos + 1}); at most {MAX_LAYERS}")
    if not any(layer.kind == "conv" for layer in layers):
        raise UsageError(f"cfg {cfg!r} has no conv layer; add at least one channel count")
    return tuple(layers)


def format_cfg(cfg: Cfg) -> str:
    """Format layers as the canonical cfg string (runs collapsed into ``xN``)."""
    parts: list[str] = []
    i = 0
    while i < len(cfg):
        j = i
        while j + 1 < len(cfg) and cfg[j + 1] == cfg[i]:
            j += 1
        n = j - i + 1
        parts.append(cfg[i].token() + (f"x{n}" if n > 1 else ""))
        i = j + 1
    return ",".join(parts)


def canonical_cfg(cfg: str | Sequence[int | str]) -> str:
    """Return the canonical spelling of a cfg string or list."""
    return format_cfg(parse_cfg(cfg))


def looks_like_cfg(text: str) -> bool:
    """Say whether a string is meant as a cfg rather than an arch name."""
    return "," in text or text[:1].isdigit()


def is_conv_token(token: str) -> bool:
    """Say whether one cfg token is a conv (C, CkK, CxN, CkKxN)."""
    return bool(_CONV_RE.match(token))


def is_cfg_token(token: str) -> bool:
    """Say whether one token belongs to the cfg grammar (a conv, or M, LRN or L with an optional xN)."""
    return is_conv_token(token) or bool(_REPEAT_RE.match(token))


def num_pools(cfg: Cfg) -> int:
    """Count the max-pools in a cfg."""
    return sum(layer.kind == "pool" for layer in cfg)


def validate(spec: ArchSpec, input_size: int | None = None) -> ArchSpec:
    """Check a spec's options (and the input size, when known); return it unchanged."""
    if not math.isfinite(spec.width) or spec.width <= 0:
        raise UsageError(f"width must be > 0 and finite, got {spec.width}; e.g. --width 0.25")
    if spec.num_classes < 1:
        raise UsageError(f"num_classes must be >= 1, got {spec.num_classes}")
    if spec.in_channels < 1:
        raise UsageError(f"in_channels must be >= 1, got {spec.in_channels}")
    check_choice("head", spec.head, HEADS)
    if not 0.0 <= spec.dropout < 1.0:
        raise UsageError(f"dropout must be in [0, 1), got {spec.dropout}")
    if input_size is not None:
        check_input_size(spec.cfg, input_size)
    return spec


def check_input_size(cfg: Cfg, input_size: int) -> None:
    """Raise if the input is too small for the cfg's pools (each halves the side)."""
    pools = num_pools(cfg)
    if input_size < 1 or input_size < 2**pools:
        raise UsageError(
            f"input size {input_size} is too small for {pools} max-pools; "
            f"use --input-size >= {2**pools} or remove pools"
        )
