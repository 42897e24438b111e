"""``python -m bench list [PATTERN]``: the registered archs with params and GMACs at 224."""

from __future__ import annotations

import argparse

from bench.common import load_arch_files


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the list command."""
    p = sub.add_parser("list", help="list registered archs")
    p.add_argument("pattern", nargs="?", default="*", help="glob, e.g. 'vgg1*_bn'")
    p.add_argument("--arch-file", action="append", default=[], metavar="FILE.toml")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    """Print one line per matching arch."""
    import pandas as pd

    from vggablate import analyse, get_arch, list_archs
    from vggablate.errors import UsageError

    load_arch_files(args)
    names = list_archs(args.pattern)
    if not names:
        raise UsageError(f"no registered arch matches {args.pattern!r}; try `python -m bench list`")
    rows = []
    for name in names:
        spec = get_arch(name)
        t = analyse(spec, 224)
        rows.append(
            {
                "arch": name,
                "cfg": spec.cfg_str,
                "bn": spec.batch_norm,
                "convs": t.conv_layers,
                "params": f"{t.params:,}",
                "GMACs@224": f"{t.macs / 1e9:.3f}",
            }
        )
    print(pd.DataFrame(rows).to_string(index=False))
    return 0
