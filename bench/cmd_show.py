"""``python -m bench show ARCH|CFG``: the analytic per-layer table and totals."""

from __future__ import annotations

import argparse

from bench.common import add_model_options, load_arch_files, model_options, positive_int


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the show command."""
    p = sub.add_parser("show", help="per-layer table of an arch or cfg")
    p.add_argument("arch", help="registered name or cfg string, e.g. '64,M,128x2,M'")
    p.add_argument("--input-size", type=positive_int, default=224, help="square input side (default 224)")
    add_model_options(p)
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    """Print the layer table and its totals."""
    import pandas as pd

    from vggablate import analyse, layer_table, resolve_spec

    load_arch_files(args)
    spec = resolve_spec(args.arch, **model_options(args))
    rows = layer_table(spec, args.input_size)
    frame = pd.DataFrame(
        [
            {
                "layer": r.name,
                "type": r.kind,
                "stage": r.stage or "head",
                "k": r.kernel or "",
                "in": r.in_channels,
                "out": r.out_channels,
                "output": "x".join(map(str, r.out_shape)),
                "RF": r.receptive_field or "",
                "params": f"{r.params:,}",
                "MACs": f"{r.macs:,}",
            }
            for r in rows
        ]
    )
    t = analyse(spec, args.input_size)
    print(
        f"{spec.name}: {spec.cfg_str}  (bn={spec.batch_norm}, width={spec.width}, head={spec.head}, "
        f"classes={spec.num_classes}, input {args.input_size}x{args.input_size})"
    )
    if spec.matched:
        print(f"compute-matched: {spec.matched}")
    print(frame.to_string(index=False))
    print(
        f"total: {t.params:,} params ({t.params_conv:,} conv, {t.params_classifier:,} classifier), "
        f"{t.macs / 1e9:.3f} GMACs ({t.macs_conv / 1e9:.3f} conv, {t.macs_classifier / 1e9:.3f} classifier); "
        "1 MAC = 1 multiply-add, FLOPs = 2 x MACs"
    )
    return 0
