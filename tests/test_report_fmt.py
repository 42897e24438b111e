"""report.fmt: CIs on the 0-100% scale, plurals (no torch)."""

from __future__ import annotations

import math

import pytest

from vggablate.report.fmt import beyond, clip, clipped_note, fmt_as, fmt_ci, fmt_keep, fmt_si
from vggablate.report.plotkit import ci_yerr
from vggablate.stats import mean_ci
from vggablate.words import plural


def test_ci_inside_the_scale_is_mean_plus_minus():
    ci = mean_ci([88.0, 88.5, 88.2])
    assert fmt_ci(ci.mean, ci.lo, ci.hi, ci.n) == f"{ci.mean:.2f} ± {ci.half_width:.2f} (n=3)"


def test_ci_past_the_scale_is_shown_clipped_and_flagged():
    ci = mean_ci([10.0, 33.33])  # two seeds far apart: the t-interval spans about -127% to 170%
    assert ci.lo < 0 and ci.hi > 100  # the honest interval is kept in the data
    assert fmt_ci(ci.mean, ci.lo, ci.hi, ci.n) == f"{ci.mean:.2f} [0.00, 100.00]† (n=2)"
    near_top = mean_ci([98.0, 99.9])
    lo = near_top.lo
    assert fmt_ci(near_top.mean, near_top.lo, near_top.hi, 2) == f"{near_top.mean:.2f} [{lo:.2f}, 100.00]† (n=2)"
    assert f"±{ci.half_width:.2f}" in clipped_note([near_top.half_width, ci.half_width])


def test_one_seed_has_no_interval():
    assert fmt_ci(98.61, math.nan, math.nan, 1) == "98.61 (n=1)"
    assert not beyond(math.nan, math.nan)


@pytest.mark.parametrize(
    ("lo", "hi", "want"),
    [(-130.0, 170.0, (0.0, 100.0)), (5.0, 95.0, (5.0, 95.0)), (96.0, 101.5, (96.0, 100.0))],
)
def test_clip_and_error_bars_stay_in_range(lo, hi, want):
    mean = (lo + hi) / 2
    assert clip(lo, hi) == want
    (down, up), clipped = ci_yerr(mean, lo, hi)
    assert (mean - down[0], mean + up[0]) == pytest.approx(want)
    assert clipped == (want != (lo, hi))


def test_plural():
    assert [plural(1, "seed"), plural(3, "seed"), plural(1.5, "epoch"), plural(1, "epoch")] == [
        "1 seed",
        "3 seeds",
        "1.5 epochs",
        "1 epoch",
    ]


@pytest.mark.parametrize(
    ("value", "digits", "want"),
    [(1.3, 0, "1.30"), (0.329, 0, "0.329"), (2614.2, 0, "2,614"), (551.0, 0, "551"), (132.864, 2, "132.86"),
     (0.0512, 2, "0.0512"), (0.0, 0, "0"), (None, 0, "")],
)  # fmt: skip
def test_small_figures_keep_three_significant_digits(value, digits, want):
    assert fmt_keep(value, digits) == want


def test_si_prefixes_counts_like_torchvisions_gmacs():
    assert [fmt_si(v) for v in (15_470_264_320, 276_398_080, 160_744, 512, 0)] == [
        "15.470 G", "276.398 M", "160.744 k", "512", "0"
    ]  # fmt: skip


@pytest.mark.parametrize(
    "value, spec, missing, text",
    [(0.2251, ".1%", "-", "22.5%"), (0.0641, ".3g", "-", "0.0641"), (4, ".3g", "-", "4"), (None, ".1%", "-", "-"),
     (math.nan, ".2f", "", ""), (math.inf, ".1%", "-", "-"), (True, ".2f", "unknown", "unknown")],
)  # fmt: skip
def test_fmt_as_formats_numbers_and_names_the_missing_ones(value, spec, missing, text):
    assert fmt_as(value, spec, missing) == text
