import pytest
import torch

from bench.__main__ import main

TINY = ["vgg11_bn", "--width", "0.125", "--head", "gap", "--input-size", "32"]


def run(capsys, *argv):
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--metrics", "params,flops"], "unknown metric flops"),
        (["--batch-sizes", "1,0"], "batch size must be >= 1"),
        (["--precision", "fp8"], "invalid choice: 'fp8'"),
        (["--mode", "eval"], "unknown mode eval"),
        (["--precision", "tf32"], "tf32 is a CUDA"),
    ],
)
def test_bad_values_are_one_line_and_exit_2(capsys, argv, message):
    code, out, err = run(capsys, "measure", *TINY, *argv)
    assert code == 2 and message in err and err.count("\n") == 1 and out == ""


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is present")
def test_cuda_absent_says_how_to_fall_back(capsys):
    code, _, err = run(capsys, "measure", *TINY, "--device", "cuda")
    assert code == 2 and "CUDA" in err and "--device cpu" in err
    code, _, err = run(capsys, "gpu-check")
    assert code == 2 and "CUDA" in err and err.count("\n") == 1


def test_every_metric_prints_a_table(capsys):
    argv = ["--metrics", "params,macs,latency,memory", "--batch-sizes", "2", "--budget", "0.2", "--threads", "1"]
    code, out, err = run(capsys, "measure", *TINY, *argv)
    assert code == 0, err
    assert "params       210,248" in out and "MACs         2.644 M" in out and "1 MAC = 1 multiply-add" in out
    assert "latency:" in out and "img/s" in out and "memory:" in out
    assert "error" not in out and "memory not measured" not in out
    lines = out.splitlines()
    header = lines[lines.index("memory:") + 1].split()
    # Every column has its own label (CPU: resident set, which is not the tensors' size).
    labels = ["mode", "batch", "RSS after build MiB", "step peak RSS MiB", "est. total MiB", "est. weights MiB",
              "est. activations MiB", "est. grads MiB", "est. optimizer MiB"]  # fmt: skip
    assert " ".join(header) == " ".join(labels)
    assert len(lines[lines.index("memory:") + 2].split()) == len(labels)
    assert "RSS after build: resident-set growth from building the model" in out
    assert "utilisation is a fraction of the peak named" not in out
    assert "util vs gemm = GFLOP/s / the gemm TFLOP/s column" in out and "MFU vs spec = GFLOP/s / the" in out


def test_default_metrics_say_memory_is_left_out(capsys):
    code, out, err = run(capsys, "measure", *TINY, "--metrics", "params")
    assert code == 0, err
    assert "memory not measured (metrics params); add it with --metrics params,memory" in out
    code, out, _ = run(capsys, "measure", "--help")
    assert "default params,macs,latency" in " ".join(out.split()) and "--metrics params,macs,latency,memory" in out


def test_device_auto_and_latency_budget(capsys):
    from bench.__main__ import build_parser

    args = build_parser().parse_args(["measure", "vgg11", "--latency-budget", "0.3", "--device", "auto"])
    assert args.budget == 0.3 and args.device == "auto"
    assert build_parser().parse_args(["measure", "vgg11", "--budget", "0.4"]).budget == 0.4  # the old name
    code, out, err = run(capsys, "measure", *TINY, "--metrics", "params", "--device", "auto")
    assert code == 0, err
    device = "cuda" if torch.cuda.is_available() else "cpu"
    assert f"input 32x32, {device}, fp32" in out.splitlines()[0]
