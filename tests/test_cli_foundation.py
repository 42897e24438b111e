"""The list and show commands, and the CLI's error contract: one line, exit code 2."""

import ast
import subprocess
from pathlib import Path

import pytest
from cli_helpers import bench_main, bench_process

from bench.__main__ import main


def test_list_prints_table(capsys):
    assert main(["list", "vgg16*"]) == 0
    out = capsys.readouterr().out
    assert "vgg16_k7_cm" in out and "138,357,544" in out and "15.470" in out


def test_show_prints_layers_and_totals(capsys):
    assert main(["show", "vgg16"]) == 0
    out = capsys.readouterr().out
    assert "classifier.6" in out and "15.470 GMACs" in out and "138,357,544 params" in out


def test_show_cfg_with_options(capsys):
    assert main(["show", "64,M,128k5x2,M", "--input-size", "32", "--head", "gap", "--num-classes", "10"]) == 0
    out = capsys.readouterr().out
    assert "classifier.1" in out and "128x8x8" in out


def test_show_arch_file(tmp_path, capsys):
    path = tmp_path / "a.toml"
    path.write_text("[archs.cli_tiny]\ncfg = '8,M,16'\nhead = 'gap'\n")
    try:
        assert main(["show", "cli_tiny", "--arch-file", str(path), "--input-size", "8"]) == 0
        assert "cli_tiny: 8,M,16" in capsys.readouterr().out
    finally:
        from vggablate.arch.registry import _ARCHS

        _ARCHS.pop("cli_tiny", None)


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["show", "vgg17"], "unknown arch 'vgg17'; did you mean"),
        (["show", "64,foo"], "unknown cfg token 'foo'"),
        (["show", "64,M,M,M", "--input-size", "4"], "too small for 3 max-pools"),
        (["show", "vgg16", "--width", "0"], "--width: must be > 0"),
        (["show", "vgg16", "--head", "mlp"], "invalid choice"),
        (["show", "vgg16", "--bogus"], "unrecognized arguments: --bogus (see `python -m bench show --help`)"),
        (["show", "VGG16"], "unknown arch 'VGG16'; did you mean vgg16?"),
        (["measure", "vgg11", "--frobnicate"], "(see `python -m bench measure --help`)"),
        (["run", "--archs", "vgg11", "--frobnicate"], "(see `python -m bench run --help`)"),
        (["baseline", "save", "r", "--to", "b.json", "-x"], "(see `python -m bench baseline save --help`)"),
        (["--frobnicate"], "unrecognized arguments: --frobnicate (see `python -m bench --help`)"),
        (["list", "resnet*"], "no registered arch matches"),
        (["frobnicate"], "invalid choice"),
        (["show", "tiny", "--arch-file", "/nonexistent/a.toml"], "does not exist"),
    ],
)
def test_errors_are_one_line_exit_2(argv, fragment):
    check_one_line_exit_2(bench_main(*argv), fragment)


def test_errors_through_the_real_entry_point():
    # The cases above run main() in-process; `python -m bench` itself gets one of them for real.
    check_one_line_exit_2(
        bench_process("--frobnicate"), "unrecognized arguments: --frobnicate (see `python -m bench --help`)"
    )


def check_one_line_exit_2(proc: subprocess.CompletedProcess, fragment: str) -> None:
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert fragment in lines[0] and lines[0].startswith("error: ")
    assert "Traceback" not in proc.stderr


def test_commands_share_helpers_not_each_others_modules():
    # A command imports bench/common.py (or another shared bench module), never bench/cmd_*.py or a _private.
    for path in sorted((Path(__file__).parents[1] / "bench").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                assert not any(a.name.startswith("bench.cmd_") for a in node.names), f"{path.name} imports a command"
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("bench."):
                assert not node.module.startswith("bench.cmd_"), f"{path.name} imports {node.module}"
                assert not any(a.name.startswith("_") for a in node.names), f"{path.name}: a private of {node.module}"
