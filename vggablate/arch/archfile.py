"""Named archs from a TOML file (``--arch-file``).

[archs.tiny_k5]
cfg = "32k5,M,64k5,M"
batch_norm = true
head = "gap"
num_classes = 10
"""

from __future__ import annotations

import math
from pathlib import Path

from vggablate.arch.factory import OPTIONS, resolve_spec
from vggablate.arch.registry import is_registered, register_spec
from vggablate.arch.spec import ArchSpec, parse_cfg
from vggablate.checks.names import check_name
from vggablate.checks.tomlfile import read_toml
from vggablate.errors import UsageError


def read_arch_file(path: str | Path) -> list[ArchSpec]:
    """Read the named archs of a TOML file into specs (validated, not registered)."""
    path = Path(path)
    data = read_toml(path, "arch file")
    archs = data.get("archs")
    if not isinstance(archs, dict) or not archs:
        raise UsageError(f"arch file {str(path)!r} has no [archs.NAME] tables")
    return [_entry(path, name, body) for name, body in archs.items()]


# Each key's TOML type, checked strictly: "yes" is no boolean, 1.0 no channel count, nan no width.
_TYPES = {"batch_norm": "boolean", "width": "number", "in_channels": "integer", "num_classes": "integer",
          "head": "string", "dropout": "number", "description": "string"}  # fmt: skip
_EXAMPLES = {"batch_norm": "true", "width": "0.5", "in_channels": "3", "num_classes": "10", "head": '"gap"',
             "dropout": "0.5", "description": '"my net"'}  # fmt: skip


def _entry(path: Path, name: str, body: object) -> ArchSpec:
    where = f"arch file {str(path)!r}, [archs.{name}]"
    try:
        check_name(name, "arch name", "tiny_k5")
    except UsageError as exc:
        raise UsageError(f"arch file {str(path)!r}: {exc}") from None
    if not isinstance(body, dict) or "cfg" not in body:
        raise UsageError(f'{where}: needs a cfg, e.g. cfg = "64,M,128,M"')
    unknown = set(body) - set(OPTIONS) - {"cfg", "description"}
    if unknown:
        raise UsageError(f"{where}: unknown key(s) {sorted(unknown)}; allowed: cfg, description, {', '.join(OPTIONS)}")
    _check_types(where, body)
    options = {k: v for k, v in body.items() if k in OPTIONS}
    try:
        spec = ArchSpec(name=name, cfg=parse_cfg(body["cfg"]), description=body.get("description", ""))
        return resolve_spec(spec, **options)
    except UsageError as exc:
        raise UsageError(f"{where}: {exc}") from None


def _check_types(where: str, body: dict) -> None:
    """Refuse a value of the wrong TOML type, or a number that is not finite."""
    cfg = body["cfg"]
    if not (isinstance(cfg, str) or (isinstance(cfg, list) and all(_is_cfg_item(t) for t in cfg))):
        raise UsageError(f'{where}: cfg must be a string like "64,M,128,M" or a list like [64, "M"], got {cfg!r}')
    for key, kind in _TYPES.items():
        if key in body and not _is(kind, body[key]):
            raise UsageError(f"{where}: {key} must be a finite TOML {kind}, e.g. {key} = {_EXAMPLES[key]}; "
                             f"got {body[key]!r}")  # fmt: skip


def _is(kind: str, value: object) -> bool:
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    return isinstance(value, str)


def _is_cfg_item(item: object) -> bool:
    return isinstance(item, str) or (isinstance(item, int) and not isinstance(item, bool))


def load_arch_file(path: str | Path) -> list[str]:
    """Register the archs of a TOML file; return their names.

    A name already registered (by the library or an earlier load of this file) is refused, and then
    none of the file's archs is registered; ``sweep.register_arch_files`` skips a file loaded before.
    """
    specs = read_arch_file(path)
    for spec in specs:
        if is_registered(spec.name):
            raise UsageError(f"arch file {str(path)!r}: {spec.name!r} is already registered; rename it")
    for spec in specs:
        register_spec(spec)
    return [spec.name for spec in specs]
