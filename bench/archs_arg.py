"""``--archs``: registered names, globs and cfg strings in one comma list, and its errors."""

from __future__ import annotations

from collections.abc import Iterable

from vggablate.arch.spec import is_cfg_token, is_conv_token
from vggablate.errors import UsageError

ARCHS_FORMS = ("give names comma-separated (vgg11,vgg16) and a cfg as comma-separated tokens C, CkK, CxN, M, "
               "LRN (64,M,128k5); separate two cfgs with ';' (vgg11;64,M;32,M)")  # fmt: skip


def split_archs(text: str) -> list[str]:
    """Split an --archs value into items, grouping consecutive cfg tokens into one cfg string."""
    items: list[str] = []
    for piece in text.split(";"):
        group: list[str] = []
        for pos, tok in enumerate((t.strip() for t in piece.split(",")), 1):
            if tok and is_cfg_token(tok):
                group.append(tok)
                continue
            items += _cfg_group(group, piece, pos - len(group))
            group = []
            if tok:
                items.append(tok)
        items += _cfg_group(group, piece, len(piece.split(",")) + 1 - len(group))
    return items


def _cfg_group(group: list[str], piece: str, pos: int) -> list[str]:
    # A group of only pools and LRNs is no cfg: a name was put inside a cfg ('64,M,vgg11,M').
    if not group:
        return []
    if not any(is_conv_token(t) for t in group):
        span = f"token {pos}" if len(group) == 1 else f"tokens {pos}-{pos + len(group) - 1}"
        raise UsageError(f"--archs {piece!r}: {span} {','.join(group)!r} is no cfg (a cfg needs a conv, and a name "
                         f"cannot sit inside one); {ARCHS_FORMS}")  # fmt: skip
    return [",".join(group)]


def check_archs(text: str, arch_files: Iterable[str] = ()) -> None:
    """Refuse a token among cfg tokens that is neither a cfg token nor a registered arch, naming both forms."""
    from vggablate.arch.registry import is_registered, suggest
    from vggablate.run.sweep import register_arch_files

    register_arch_files(arch_files)
    for piece in text.split(";"):
        tokens = [t.strip() for t in piece.split(",")]
        if not any(is_cfg_token(t) for t in tokens):
            continue  # names and globs alone: resolving them gives the error, with close names
        for pos, tok in enumerate(tokens, 1):
            if tok and not is_cfg_token(tok) and not is_registered(tok) and not any(c in tok for c in "*?["):
                raise UsageError(f"--archs {piece!r}: token {pos} {tok!r} is neither a cfg token nor a registered "
                                 f"arch ({suggest(tok)}); {ARCHS_FORMS}")  # fmt: skip
