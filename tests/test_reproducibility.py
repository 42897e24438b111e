"""`bench compare` says when two runs ran on other kernels (CPU, its SIMD kernel set, cuDNN); no torch."""

from __future__ import annotations

import pytest
from cli_helpers import bench_main
from report_fixtures import fixture_rows

from vggablate.regress import compare, from_rows, save, to_markdown


def kernels_of(**env: object) -> list[dict]:
    """Return the fixture run's rows as if computed where env says."""
    return [{**r, **env} for r in fixture_rows()]


@pytest.mark.parametrize(
    ("env", "said"),
    [
        ({"env_cpu_capability": "AVX2"}, "cpu_capability AVX512 -> AVX2"),
        ({"env_cudnn": "91000"}, "cudnn 90100 -> 91000"),
        ({"env_cpu": "AMD EPYC 7763 64-Core Processor"}, "cpu Intel(R) Xeon(R) Platinum 8480+ -> AMD EPYC"),
    ],
)
def test_compare_notes_other_kernels(env, said):
    comparison = compare(from_rows(fixture_rows()), from_rows(kernels_of(**env)))
    assert said in comparison.kernels and "only statistically" in comparison.kernels
    assert f"> note: {comparison.kernels}" in to_markdown(comparison, "a", "b")
    assert not any("cpu_capability" in n for n in comparison.notes)  # said once, in the note


def test_same_kernels_say_nothing_and_unknown_ones_are_not_guessed():
    assert compare(from_rows(fixture_rows()), from_rows(fixture_rows())).kernels == ""
    old = [{k: v for k, v in r.items() if k != "env_cpu_capability"} for r in fixture_rows()]  # an older baseline
    assert compare(from_rows(old), from_rows(kernels_of(env_cpu_capability="AVX2"))).kernels == ""


def test_compare_command_prints_the_note(tmp_path):
    save(from_rows(fixture_rows()), tmp_path / "a.json")
    save(from_rows(kernels_of(env_cpu_capability="AVX2")), tmp_path / "b.json")
    done = bench_main("compare", str(tmp_path / "a.json"), str(tmp_path / "b.json"))
    assert done.returncode == 0, done.stderr
    assert "note: different kernels (cpu_capability AVX512 -> AVX2)" in done.stderr
    assert "> note: different kernels" in done.stdout
