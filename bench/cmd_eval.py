"""``python -m bench eval ARCH --weights NAME|FILE --dataset imagefolder:PATH``: top-1/top-5 vs published."""

from __future__ import annotations

import argparse

from bench.common import add_model_options, load_arch_files, number_type, positive_int
from vggablate.errors import UsageError
from vggablate.words import plural


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the eval command."""
    p = sub.add_parser("eval", help="evaluate published or saved weights on an image folder's val/")
    p.add_argument("arch", help="registered name or cfg string, e.g. vgg16")
    p.add_argument("--weights", required=True, help="torchvision weights name (IMAGENET1K_V1) or a state-dict file")
    p.add_argument("--dataset", required=True, help="imagefolder:PATH, with PATH/val/<class>/*.JPEG")
    p.add_argument("--device", default="auto", help="cpu | cuda | auto (default auto)")
    p.add_argument("--batch-size", type=positive_int, default=64, help="evaluation batch size (default 64)")
    p.add_argument(
        "--workers",
        type=number_type(integer=True, minimum=0, exclusive_min=False, maximum=1024),
        help="DataLoader workers (default: 4, or the CPUs available if fewer)",
    )
    add_model_options(p)
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    """Evaluate and print top-1/top-5 beside torchvision's published figures."""
    from bench.common import model_options
    from vggablate import resolve_spec
    from vggablate.arch.footprint import check_model_fits
    from vggablate.data import default_workers
    from vggablate.data.catalog import find_dataset, imagefolder_path
    from vggablate.run.device import resolve_device
    from vggablate.training.evaluate import evaluate_weights, published_accuracy

    load_arch_files(args)
    entry = find_dataset(args.dataset)
    if entry is None or entry.name != "imagefolder" or not args.dataset.partition(":")[2]:
        raise UsageError(f"eval needs --dataset imagefolder:PATH, got {args.dataset!r}")
    if args.workers is not None and args.workers < 0:
        raise UsageError(f"--workers must be >= 0, got {args.workers}")
    workers = default_workers() if args.workers is None else args.workers
    folder = imagefolder_path(args.dataset)
    spec = resolve_spec(args.arch, **model_options(args))
    device = resolve_device(args.device)
    check_model_fits(spec, 224, args.batch_size, "infer", "fp32", device)  # the eval transform's 224x224 crops
    result = evaluate_weights(spec, args.weights, folder, device, args.batch_size, workers)
    top5 = "-" if result.top5 is None else f"{result.top5:.3f}%"
    images = plural(result.num_images, "image")
    print(f"{spec.name} {args.weights} on {folder}/val ({images}, {device}):")
    print(f"  measured:  top-1 {result.top1:.3f}%  top-5 {top5}  ({result.eval_time_s:.1f} s)")
    published = published_accuracy(spec.name, args.weights)
    if published is not None:
        acc1, acc5 = published
        print(f"  published: top-1 {acc1:.3f}%  top-5 {acc5:.3f}%  (torchvision, ImageNet-1K val, 50,000 images)")
        if result.top5 is not None:
            print(f"  difference: top-1 {result.top1 - acc1:+.3f}  top-5 {result.top5 - acc5:+.3f} points")
    return 0
