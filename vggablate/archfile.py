"""Named archs from a TOML file (``--arch-file``).

[archs.tiny_k5]
cfg = "32k5,M,64k5,M"
batch_norm = true
head = "gap"
num_classes = 10
"""

from __future__ import annotations

from pathlib import Path

from vggablate.errors import UsageError
from vggablate.factory import OPTIONS, resolve_spec
from vggablate.registry import is_registered, register_spec
from vggablate.spec import ArchSpec, parse_cfg
from vggablate.tomlfile import read_toml


def read_arch_file(path: str | Path) -> list[ArchSpec]:
    """Read the named archs of a TOML file into specs (validated, not registered)."""
    path = Path(path)
    data = read_toml(path, "arch file")
    archs = data.get("archs")
    if not isinstance(archs, dict) or not archs:
        raise UsageError(f"arch file {str(path)!r} has no [archs.NAME] tables")
    return [_entry(path, name, body) for name, body in archs.items()]


def _entry(path: Path, name: str, body: object) -> ArchSpec:
    where = f"arch file {str(path)!r}, [archs.{name}]"
    if not isinstance(body, dict) or "cfg" not in body:
        raise UsageError(f'{where}: needs a cfg, e.g. cfg = "64,M,128,M"')
    unknown = set(body) - set(OPTIONS) - {"cfg", "description"}
    if unknown:
        raise UsageError(f"{where}: unknown key(s) {sorted(unknown)}; allowed: cfg, description, {', '.join(OPTIONS)}")
    options = {k: v for k, v in body.items() if k in OPTIONS}
    try:
        spec = ArchSpec(name=name, cfg=parse_cfg(body["cfg"]), description=body.get("description", ""))
        return resolve_spec(spec, **options)
    except UsageError as exc:
        raise UsageError(f"{where}: {exc}") from None


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
