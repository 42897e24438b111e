import json

import pytest
from test_data import write_cifar10

from bench.__main__ import main
from bench.cmd_train import summary_table


def test_train_cli_prints_runs_and_ci_and_writes_rows(tmp_path, capsys):
    args = ["train", "vgg11", "--dataset", "synthetic", "--steps", "2", "--seeds", "2", "--width", "0.0625"]
    rc = main([*args, "--device", "cpu", "--out", str(tmp_path), "--no-progress"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "differs from standard: head gap (standard imagenet); width 0.0625 (standard 1)" in out
    assert "95% CI" in out and "top1 mean %" in out
    rows = read_rows(tmp_path)
    assert [r["seed"] for r in rows] == [0, 1] and len({r["trial_id"] for r in rows}) == 2
    assert all(r["kind"] == "accuracy" and r["width"] == 0.0625 and r["steps"] == 2 for r in rows)
    assert rows[0]["error"] is None and "env_torch" in rows[0] and isinstance(rows[0]["curve"], list)


def test_summary_table_gives_mean_std_and_t_interval():
    rows = [{"arch": "a", "top1": v} for v in (90.0, 92.0, 94.0)] + [{"arch": "b", "top1": 50.0}]
    table = summary_table(rows)
    a = table[table.arch == "a"].iloc[0]
    # t(0.975, 2) = 4.303; std 2; half-width 4.303 * 2 / sqrt(3) = 4.97
    assert (a["n"], a["top1 mean %"], a["std"], a["95% CI"]) == (3, "92.00", "2.00", "[87.03, 96.97]")
    assert table[table.arch == "b"].iloc[0]["95% CI"] == "-"
    assert table[table.arch == "b"].iloc[0]["std"] == "-"  # one seed: no spread, and never "nan"


def read_rows(out):
    """Read the journal of the one run folder `bench train` made under --out (<stamp>-train)."""
    (folder,) = [p for p in out.iterdir() if p.is_dir()]
    assert folder.name.endswith("-train")
    return [json.loads(line) for line in (folder / "rows.jsonl").read_text().splitlines()]


def test_train_cli_trains_narrow_cfgs_as_written_and_says_what_runs(tmp_path, capsys):
    args = ["train", "16,M,32,M", "vgg11", "--dataset", "synthetic", "--steps", "1", "--device", "cpu"]
    assert main([*args, "--out", str(tmp_path), "--no-progress"]) == 0
    out = capsys.readouterr().out
    custom, vgg11 = read_rows(tmp_path)
    assert (custom["width"], vgg11["width"]) == (1.0, 0.25) and custom["narrow_from"] == 256
    assert "16,M,32,M: 16,M,32,M; differs from standard: head gap" in out
    assert "width" not in out.split("16,M,32,M; differs from standard:")[1].splitlines()[0]
    assert "; width 0.25 (standard 1);" in out  # vgg11's line
    recipe = next(line for line in out.splitlines() if line.startswith("recipe:"))
    # On CPU the fast paths are what its kernels have (vggablate.training.fastpaths), as the rows record them.
    from vggablate.training.fastpaths import cpu_capabilities

    onednn, native_bf16 = cpu_capabilities()
    assert "width=0.25 (nets with a 256+ channel conv)" in recipe and "narrow_from" not in recipe
    assert f"channels_last={onednn}" in recipe and f"bf16={native_bf16}" in recipe
    assert (custom["precision"], custom["channels_last"]) == ("bf16" if native_bf16 else "fp32", onednn)
    assert "nan" not in out


def test_train_cli_explicit_width_applies_to_every_net(tmp_path):
    args = ["train", "16,M,32,M", "--dataset", "synthetic", "--steps", "1", "--width", "0.5", "--device", "cpu"]
    assert main([*args, "--out", str(tmp_path), "--no-progress"]) == 0
    (row,) = read_rows(tmp_path)
    assert (row["width"], row["narrow_from"]) == (0.5, None)


def test_train_help_states_the_width_default(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    width = text.split("--width WIDTH ")[-1]
    assert "(default 1)" not in width and "256+ channels train at 0.125 on clutter, digits and fashion-mnist" in width


def test_train_cli_reads_cifar_folder(tmp_path, capsys):
    write_cifar10(tmp_path / "data", n=20)
    args = ["train", "64,M,64,M", "--dataset", "cifar10", "--data-dir", str(tmp_path / "data"), "--steps", "2"]
    assert main([*args, "--device", "cpu", "--out", str(tmp_path / "out"), "--no-download"]) == 0
    assert "cifar10 on cpu: 100 train images" in capsys.readouterr().out


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--dataset", "cifar10", "--data-dir", "/no/such/dir", "--no-download"], "/no/such/dir"),
        (["--dataset", "mnist"], "unknown dataset"),
        (["--num-classes", "5"], "--num-classes"),
    ],
)
def test_train_cli_user_errors_are_one_line(tmp_path, capsys, extra, message):
    assert main(["train", "vgg11", "--device", "cpu", "--out", str(tmp_path), *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_train_cli_failed_download_is_one_line(tmp_path, monkeypatch, capsys):
    import urllib.error
    import urllib.request

    def offline(url, **kwargs):
        raise urllib.error.URLError(OSError(-2, "Name or service not known"))

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    argv = ["train", "16,M,32,M", "--dataset", "cifar10", "--data-dir", str(tmp_path / "empty"), "--epochs", "1"]
    assert main([*argv, "--device", "cpu", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz" in err
    assert str(tmp_path / "empty") in err and "--data-dir" in err and not (tmp_path / "out").exists()


def test_an_unreadable_image_is_one_line_before_any_training(tmp_path):
    from cli_helpers import bench_main
    from test_data import write_image_folder

    images = write_image_folder(tmp_path / "images")
    (images / "val" / "cat" / "junk.jpg").write_text("not an image")  # crashed training with UnidentifiedImageError
    dataset = f"imagefolder:{images}"
    for argv in (
        ["train", "8,M,16,M", "--head", "gap", "--dataset", dataset, "--steps", "1", "--no-progress"],
        ["run", "--archs", "8,M,16,M", "--metrics", "accuracy", "--dataset", dataset, "--epochs", "1"],
    ):
        proc = bench_main(*argv, "--out", str(tmp_path / "out"))
        assert (proc.returncode, proc.stderr.count("\n")) == (2, 1), proc.stderr
        assert (
            proc.stderr.startswith(f"error: image folder '{images}': 1 file PIL cannot read")
            and "junk.jpg" in proc.stderr
        )
        assert not (tmp_path / "out").exists()
