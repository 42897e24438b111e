"""Time steps of some archs in whatever vggablate is first on sys.path; print the samples as one JSON line.

Run as a script, never imported: ``bench ab`` sends this file's source to ``python -c`` with a code
state's folder on PYTHONPATH (a git worktree of another revision, or this tree under another
interpreter). So it is standalone: it needs only torch and ``vggablate.create_model``, which every
revision has, and it times every side with this same loop, so a difference between the sides is
the model and torch, never the timing code. Usage: ``python -c "$(cat ab_worker.py)" '{"archs": [...]}'``.
"""

import json
import sys
import time


def _sync(device):
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _ieee_fp32():
    """Make fp32 mean IEEE fp32 on CUDA, as the harness's fp32 does: cuDNN convs default to TF32."""
    import torch

    conv = getattr(torch.backends.cudnn, "conv", None)
    if hasattr(conv, "fp32_precision"):  # torch >= 2.9; setting the legacy flags beside it raises
        conv.fp32_precision = torch.backends.cuda.matmul.fp32_precision = "ieee"
    else:
        torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False


def _step(model, job):
    """Return one infer or train step of the model on a fixed random batch."""
    import torch
    import torch.nn.functional as F

    gen = torch.Generator().manual_seed(job["seed"])
    shape = (job["batch_size"], job.get("in_channels", 3), job["input_size"], job["input_size"])
    fmt = torch.channels_last if job["channels_last"] else torch.contiguous_format
    x = torch.randn(shape, generator=gen).to(job["device"], memory_format=fmt)
    model.to(job["device"], memory_format=fmt)
    if job["device"].startswith("cuda"):
        _ieee_fp32()
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(job["precision"])
    device_type = torch.device(job["device"]).type

    def amp():
        return torch.autocast(device_type, dtype=dtype, enabled=dtype is not None)

    if job["mode"] == "infer":
        model.eval()

        def infer():
            with torch.inference_mode(), amp():
                return model(x)

        return infer
    classes = [m for m in model.modules() if isinstance(m, torch.nn.Linear)][-1].out_features
    target = torch.randint(classes, (job["batch_size"],), generator=gen).to(job["device"])
    # A tiny learning rate, as the harness uses: random targets must not blow the weights up.
    opt = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9)
    model.train()

    def train():
        opt.zero_grad(set_to_none=True)
        with amp():
            loss = F.cross_entropy(model(x), target)
        loss.backward()
        opt.step()
        return loss

    return train


def time_arch(arch, job):
    """Return job["samples"] step times in ms of one arch after job["warmup"] untimed steps."""
    from vggablate import create_model

    step = _step(create_model(arch, **job.get("options", {})), job)
    for _ in range(job["warmup"]):
        step()
    _sync(job["device"])
    samples = []
    for _ in range(job["samples"]):
        start = time.perf_counter()
        step()
        _sync(job["device"])
        samples.append((time.perf_counter() - start) * 1e3)
    return samples


def main(argv):
    """Run the job given as JSON in argv[0]; print one JSON line."""
    job = json.loads(argv[0])
    import torch

    import vggablate

    if job.get("threads"):
        torch.set_num_threads(job["threads"])
    torch.manual_seed(job["seed"])
    samples = {arch: time_arch(arch, job) for arch in job["archs"]}
    info = {"vggablate": vggablate.__file__, "torch": torch.__version__, "threads": torch.get_num_threads()}
    print(json.dumps({**info, "samples_ms": samples}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
