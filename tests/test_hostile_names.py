"""Hostile names (issue 22): a name that becomes a path or a pattern follows one rule, everywhere."""

from __future__ import annotations

import os
from dataclasses import replace

import pytest
from cli_helpers import bench_main
from hostile_helpers import assert_refused, snapshot

from vggablate import create_model, resolve_spec
from vggablate.arch.archfile import load_arch_file, read_arch_file
from vggablate.arch.registry import is_registered, register_arch
from vggablate.arch.spec import ArchSpec, parse_cfg
from vggablate.checks.names import check_name, check_spec_name, name_problem, safe_stem
from vggablate.checks.outputs import confine
from vggablate.errors import UsageError

HOSTILE_NAMES = [
    ("../../evil", "contains '/', '..'"),
    ("vgg1*", "contains '*'"),
    ("vgg1?", "contains '?'"),
    ("[ab]", "contains '[', ']'"),
    ("64,M", "contains ','"),
    ("64", "is a cfg token"),
    ("M", "is a cfg token"),
    ("lrn", "is a cfg token"),
    ("512k5x2", "is a cfg token"),
    (".hidden", "starts with '.'"),
    ("-rf", "starts with '-'"),
    ("a..b", "contains '..'"),
    ("a b", "contains ' '"),
    ("a\\b", "contains '\\\\'"),
    ("x²", "contains '²'"),  # not an ASCII digit, though str.isalnum() says it is one
    ("x" * 101, "is over 100 characters long"),
    ("", "is empty"),
]


@pytest.mark.parametrize("name, fragment", HOSTILE_NAMES)
def test_the_name_rule_refuses_paths_patterns_and_cfg_tokens(name, fragment):
    assert fragment in name_problem(name)
    with pytest.raises(UsageError, match="it becomes a folder name"):
        check_name(name)


@pytest.mark.parametrize("name", ["vgg11", "tiny_k5", "vgg13_k5_cm_bn", "v1.2+lr=0.1@home", "größe", "x" * 100])
def test_the_name_rule_keeps_plain_names(name):
    assert check_name(name) == name


def write_arch_file(tmp_path, name: str, body: str = 'cfg = "8,M"\nhead = "gap"\n'):
    path = tmp_path / "archs.toml"
    path.write_text(f'[archs."{name}"]\n{body}')
    return path


@pytest.mark.parametrize("name, fragment", [n for n in HOSTILE_NAMES if n[0] and '"' not in n[0] and "\\" not in n[0]])
def test_arch_file_names_follow_the_rule_on_every_command(tmp_path, name, fragment):
    path = write_arch_file(tmp_path, name)
    for argv in (["list", "--arch-file", str(path)], ["show", "--arch-file", str(path), "vgg11"]):
        assert_refused(bench_main(*argv), "arch name", fragment)
    assert not is_registered(name)


def test_profile_of_an_escaping_arch_name_writes_nothing_anywhere(tmp_path, monkeypatch):
    # The example: `profile --arch-file evil.toml ../../evil --out o2` wrote o2/../../evil-224px-cpu-fp32/.
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    path = write_arch_file(work, "../../evil")
    before = snapshot(tmp_path)
    assert_refused(bench_main("profile", "--arch-file", str(path), "../../evil", "--out", "o2"), "arch name")
    assert snapshot(tmp_path) == before


def test_library_register_and_load_refuse_the_same_names(tmp_path):
    with pytest.raises(UsageError, match="arch name '../x' contains '/'"):
        register_arch("../x")(lambda: None)
    with pytest.raises(UsageError, match="arch name 'vgg1\\*' contains"):
        load_arch_file(write_arch_file(tmp_path, "vgg1*"))
    with pytest.raises(UsageError, match="is a cfg token"):
        read_arch_file(write_arch_file(tmp_path, "64"))


def test_create_model_refuses_a_hand_made_spec_with_a_path_for_a_name():
    spec = ArchSpec(name="../../evil", cfg=parse_cfg("8,M"), head="gap", num_classes=2)
    with pytest.raises(UsageError, match="arch name '../../evil'"):
        create_model(spec)
    # Specs named after their own cfg (a cfg given as the arch), and a sweep's width labels, stay valid.
    cfg_named = resolve_spec("8,M", head="gap")
    assert check_spec_name(cfg_named.name, cfg_named.cfg_str) == "8,M"
    assert resolve_spec(replace(cfg_named, name="8,M@w0.5")).name == "8,M@w0.5"
    with pytest.raises(UsageError):
        check_spec_name("8,M/../x", "8,M")


@pytest.mark.parametrize(
    "body, fragment",
    [
        ('cfg = "8,M"\nbatch_norm = "yes"\n', "batch_norm must be a finite TOML boolean"),
        ('cfg = "8,M"\nbatch_norm = 1\n', "batch_norm must be a finite TOML boolean"),
        ('cfg = "8,M"\nwidth = nan\n', "width must be a finite TOML number"),
        ('cfg = "8,M"\nwidth = inf\n', "width must be a finite TOML number"),
        ('cfg = "8,M"\nwidth = "0.5"\n', "width must be a finite TOML number"),
        ('cfg = "8,M"\nwidth = true\n', "width must be a finite TOML number"),
        ('cfg = "8,M"\ndropout = nan\n', "dropout must be a finite TOML number"),
        ('cfg = "8,M"\nnum_classes = 10.0\n', "num_classes must be a finite TOML integer"),
        ('cfg = "8,M"\nnum_classes = true\n', "num_classes must be a finite TOML integer"),
        ('cfg = "8,M"\nin_channels = "3"\n', "in_channels must be a finite TOML integer"),
        ('cfg = "8,M"\nhead = 1\n', "head must be a finite TOML string"),
        ('cfg = "8,M"\ndescription = 5\n', "description must be a finite TOML string"),
        ("cfg = 64\n", "cfg must be a string"),
        ("cfg = [true]\n", "cfg must be a string"),
        ('cfg = "64x99999999999"\n', "repeat count must be <= 1000"),
        ('cfg = "99999999999999999999"\n', "channels must be <= 1,048,576"),
        ('cfg = "8k1001"\n', "kernel must be odd, from 1 to 255"),
    ],
)
def test_arch_file_values_are_typed_strictly(tmp_path, body, fragment):
    path = write_arch_file(tmp_path, "typed", body)
    assert_refused(bench_main("list", "--arch-file", str(path)), fragment)
    assert not is_registered("typed")


@pytest.mark.parametrize("name", ["../../escape", "64", "vgg1*", ".x", "-x"])
def test_run_name_follows_the_same_rule(tmp_path, name):
    proc = bench_main("run", "--archs", "8,M", "--metrics", "params", f"--name={name}", "--out", str(tmp_path))
    assert_refused(proc, "run name", "it becomes a folder name")
    assert list(tmp_path.iterdir()) == []


def test_folders_are_confined_under_out_even_past_the_name_rule(tmp_path):
    out = tmp_path / "o2"
    with pytest.raises(UsageError, match="outside"):
        confine(out, out / ".." / ".." / "evil")
    os.symlink(tmp_path.parent, tmp_path / "link")  # a symlink inside --out that points out of it
    with pytest.raises(UsageError, match="outside"):
        confine(tmp_path, tmp_path / "link" / "escaped")
    assert confine(out, out / "20260101-000000-ok") == out / "20260101-000000-ok"


def test_profile_folder_of_a_cfg_is_a_plain_name():
    assert safe_stem("64,M,128k5x2,M") == "64-M-128k5x2-M"
    assert safe_stem("64") == "cfg-64" and safe_stem("../..") == "run"
    assert name_problem(safe_stem("vgg1*_bn;64,M")) is None
