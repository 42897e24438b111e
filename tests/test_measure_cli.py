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
    assert "latency:" in out and "img/s" in out and "memory:" in out and "peak RSS MiB" in out
    assert "error" not in out
