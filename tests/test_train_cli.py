import json

import pytest
from test_data import write_cifar10

from bench.__main__ import main


def test_train_cli_prints_runs_and_ci_and_writes_rows(tmp_path, capsys):
    args = ["train", "vgg11", "--dataset", "synthetic", "--steps", "2", "--seeds", "2", "--width", "0.0625"]
    rc = main([*args, "--device", "cpu", "--out", str(tmp_path), "--no-progress"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "differs from standard: head gap (standard imagenet); width 0.0625 (standard 1)" in out
    assert "top-1 % (95% CI)" in out and "(n=2)" in out
    rows = read_rows(tmp_path)
    assert [r["seed"] for r in rows] == [0, 1] and len({r["trial_id"] for r in rows}) == 2
    assert all(r["kind"] == "accuracy" and r["width"] == 0.0625 and r["steps"] == 2 for r in rows)
    assert rows[0]["error"] is None and "env_torch" in rows[0] and isinstance(rows[0]["curve"], list)


def test_rows_show_their_planned_trials_and_the_tables_are_the_reports(tmp_path, capsys):
    from vggablate.report.summary import markdown_table, summary_tables
    from vggablate.report.tables import report_frame, training_runs_table
    from vggablate.run.drive import resolve_trials
    from vggablate.run.records import read_rows as read_journal
    from vggablate.run.records import to_frame
    from vggablate.run.sweep import load_resume
    from vggablate.run.trial import identity, trial_id
    from vggablate.schema import ROW_COLUMNS

    args = ["train", "vgg11", "16,M,32,M", "--dataset", "digits", "--steps", "1", "--batch-size", "8"]
    assert main([*args, "--device", "cpu", "--out", str(tmp_path), "--no-progress"]) == 0
    out = capsys.readouterr().out
    (run_dir,) = tmp_path.iterdir()
    planned = {trial_id(t): t for t in resolve_trials(load_resume(run_dir)[1])}
    rows = read_rows(tmp_path)
    assert len(rows) == 2 and {r["trial_id"] for r in rows} == set(planned)
    same = [c for c in ROW_COLUMNS if c not in ("duration_s", "timestamp")]
    for row in rows:
        trial = planned[row["trial_id"]]
        assert {c: row[c] for c in same} == {c: v for c, v in identity(trial, "", 0.0).items() if c in same}
        # The fitted trial is what trained: the data's classes, channels and size, the recipe's batch.
        assert (trial.spec.num_classes, trial.spec.in_channels, trial.input_size) == (10, 3, 32)
        assert trial.batch_size == row["train_batch_size"] == 8 and trial.spec.head == "gap"
    # The printed tables are report/'s.
    frame = report_frame(to_frame(read_journal(run_dir / "rows.jsonl")))
    runs = training_runs_table(frame)
    assert list(runs["arch"]) == ["16,M,32,M", "vgg11"] and markdown_table(runs) in out
    (accuracy,) = [t for t in summary_tables(frame) if t.title == "Accuracy"]
    assert markdown_table(accuracy.frame) in out and accuracy.note in out
    # A normal run folder: `bench report` rebuilds it as it was written.
    summary = (run_dir / "summary.md").read_text()
    (run_dir / "summary.md").unlink()
    assert main(["report", str(run_dir)]) == 0 and (run_dir / "summary.md").read_text() == summary


def test_resume_runs_only_the_missing_seeds(tmp_path, capsys):
    args = ["train", "8,M,16,M", "--dataset", "digits", "--steps", "1", "--seeds", "2", "--device", "cpu"]
    assert main([*args, "--out", str(tmp_path), "--no-progress"]) == 0
    (run_dir,) = tmp_path.iterdir()
    journal = run_dir / "rows.jsonl"
    lines = journal.read_text().splitlines(keepends=True)
    journal.write_text(lines[0])  # as if interrupted after seed 0: only its row was journaled
    capsys.readouterr()
    assert main(["train", "--resume", str(run_dir), "--no-progress"]) == 0
    assert "2 training runs, 1 to run" in capsys.readouterr().out
    rows = read_rows(tmp_path)
    assert [r["seed"] for r in rows] == [0, 1] and rows[0] == json.loads(lines[0])
    assert main(["train", "--resume", str(run_dir), "--seeds", "3", "--no-progress"]) == 0  # one more seed
    assert "3 training runs, 1 to run" in capsys.readouterr().out
    assert [r["seed"] for r in read_rows(tmp_path)] == [0, 1, 2]


@pytest.mark.parametrize(
    "extra, message",
    [
        (["vgg11"], "leave out the archs"),
        (["--steps", "3"], "leave out --steps"),
        (["--retry-errors", "--timeout", "5"], "leave out --timeout"),
    ],
)
def test_resume_keeps_the_plan(tmp_path, capsys, extra, message):
    assert main(["train", "--resume", str(tmp_path), *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_a_crashing_run_is_an_error_row_and_exit_1(tmp_path, capsys):
    data = tmp_path / "data"
    write_cifar10(data, n=20)
    (data / "cifar-10-batches-py" / "test_batch").write_bytes(b"not a pickle")  # found, but fails to load
    args = ["train", "8,M,16,M", "--dataset", "cifar10", "--data-dir", str(data), "--no-download", "--steps", "1"]
    assert main([*args, "--seeds", "2", "--device", "cpu", "--out", str(tmp_path / "out"), "--no-progress"]) == 1
    captured = capsys.readouterr()
    rows = read_rows(tmp_path / "out")
    assert len(rows) == 2 and all(r["error_type"] == "exception" and "top1" not in r for r in rows)
    assert "\nErrors\n" in captured.out and "--resume" in captured.err.splitlines()[-1]


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
    assert f"cifar10 on cpu: input 32x32; from {tmp_path / 'data' / 'cifar-10-batches-py'}" in capsys.readouterr().out


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
