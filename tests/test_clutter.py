import hashlib

import numpy as np
import pytest

from bench.__main__ import main
from vggablate.data.clutter import (
    ClutterParams,
    make_clutter,
    make_split,
    parse_clutter,
    source_digits,
    upsample,
)
from vggablate.errors import UsageError

SMALL = "clutter:canvas=32,digit=12,patches=3,patch=6,placements=2,test_placements=3"


@pytest.fixture(scope="module")
def small():
    return make_clutter(parse_clutter(SMALL))


def _digest(*splits) -> str:
    h = hashlib.sha256()
    for s in splits:
        for a in (s.x, s.y, s.sources):
            h.update(a.tobytes())
    return h.hexdigest()


def test_same_parameters_same_bytes(small):
    again = make_clutter(parse_clutter(SMALL))
    assert _digest(*small) == _digest(*again)
    other = make_clutter(parse_clutter(SMALL.replace("patches=3", "patches=4")))
    assert _digest(*small) != _digest(*other)


def test_canonical_name_lists_every_parameter_in_a_fixed_order():
    full = "clutter:canvas=40,digit=16,patches=4,patch=8,placements=4,test_placements=16"
    assert parse_clutter("clutter").name == full
    assert parse_clutter("clutter:patches=8,canvas=64").name == parse_clutter("clutter:canvas=64,patches=8").name
    assert parse_clutter(parse_clutter(SMALL).name) == parse_clutter(SMALL)


def test_splits_are_disjoint_clutter_included(small):
    _, _, tr, te = source_digits()
    train, test = small
    assert set(tr).isdisjoint(te)
    # Every piece of every image (the digit and each clutter patch) comes from its own split's digits.
    assert set(np.unique(train.sources)) <= set(tr)
    assert set(np.unique(test.sources)) <= set(te)
    assert train.sources.shape == (len(train.y), 4) and test.sources.shape == (len(test.y), 4)
    # Clutter never repeats the image's own digit.
    assert (train.sources[:, 1:] != train.sources[:, :1]).all()


def test_each_image_holds_its_digit_and_its_label(small):
    images, labels, _, te = source_digits()
    _, test = small
    assert (test.y == labels[test.sources[:, 0]]).all()
    # The digit is drawn last, over the clutter (pixel-wise max): its bright pixels are all there.
    up = np.clip(np.rint(upsample(images[test.sources[:3, 0]] * (255 / 16), 12)), 0, 255)
    assert all(test.x[i, 0].max() >= up[i].max() for i in range(3))


def test_classes_are_balanced(small):
    train, test = small
    for split in (train, test):
        counts = np.bincount(split.y, minlength=10)
        assert counts.min() >= 0.9 * counts.mean() and counts.max() <= 1.1 * counts.mean()
    assert len(train.y) == 2 * 1437 and len(test.y) == 3 * 360  # every source digit, (test_)placements times


def test_placements_do_not_depend_on_anything_but_the_split_seed():
    images, labels, tr, _ = source_digits()
    up = upsample(images, 12).astype(np.uint8)
    p = ClutterParams(canvas=32, digit=12, patches=2, patch=6, placements=1)
    a, b = make_split(up, labels, tr[:50], p, 1, 1), make_split(up, labels, tr[:50], p, 1, 1)
    assert np.array_equal(a.x, b.x)
    assert not np.array_equal(a.x, make_split(up, labels, tr[:50], p, 2, 1).x)


def test_upsample_matches_torch_bilinear():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).random((3, 8, 8)).astype(np.float32)
    ref = torch.nn.functional.interpolate(torch.from_numpy(x)[:, None], size=(16, 16), mode="bilinear")
    assert np.allclose(upsample(x, 16), ref[:, 0].numpy(), atol=1e-5)


@pytest.mark.parametrize(
    "name, words",
    [
        ("clutter:canvas=16", "canvas=16 is too small"),
        ("clutter:canvas=40,digit=48", "digit=48 must be between"),
        ("clutter:placements=0", "placements must be at least 1"),
        ("clutter:test_placements=0", "test_placements must be at least 1"),
        ("clutter:size=3", "unknown clutter parameter 'size'"),
        ("clutter:canvas=4.5", "needs a whole number"),
        ("clutter:patch=20", "patch=20 must be between"),
    ],
)
def test_bad_parameters_are_one_line_errors(name, words, capsys):
    with pytest.raises(UsageError, match=words):
        parse_clutter(name)
    assert main(["data", "show", name, "--out", "unused.png"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and words in err and err.count("\n") == 1


def test_data_show_writes_the_grid(tmp_path, capsys):
    out = tmp_path / "grid.png"
    assert main(["data", "show", SMALL, "--out", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "train 2874 and test 1080 images" in capsys.readouterr().err


def test_tiny_training_run_on_the_task():
    from vggablate import resolve_spec
    from vggablate.run.execute import run_trial
    from vggablate.run.trial import Trial
    from vggablate.training.recipe import TrainConfig

    cfg = TrainConfig(steps=4, batch_size=32, lr=0.02, warmup_epochs=0, width=1 / 32, eval_batch_size=512)
    (row,) = run_trial(Trial(resolve_spec("vgg11"), kind="accuracy", dataset=SMALL, train=cfg))
    assert row["dataset"] == parse_clutter(SMALL).name
    assert row["input_size"] == 32 and row["in_channels"] == 1 and row["steps"] == 4
    assert 0 <= row["top1"] <= 100 and np.isfinite(row["train_loss"])


def test_report_draws_the_grid_of_a_run_on_the_task_without_torch():
    import subprocess
    import sys

    code = (
        "import sys, pandas as pd\n"
        "from vggablate.report.samples import report_samples\n"
        f"f = pd.DataFrame([{{'kind': 'accuracy', 'dataset': '{SMALL}'}}, {{'kind': 'latency', 'dataset': 'x'}}])\n"
        "out = report_samples(f)\n"
        "assert [o[0] for o in out] == ['samples'] and out[0][2][:4] == b'\\x89PNG'\n"
        "assert report_samples(pd.DataFrame([{'kind': 'accuracy', 'dataset': 'digits'}])) == []\n"
        "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
