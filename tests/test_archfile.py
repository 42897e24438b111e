import pytest

from vggablate import get_arch, load_arch_file, read_arch_file
from vggablate.arch.registry import _ARCHS
from vggablate.errors import UsageError

GOOD = """
[archs.tiny_k5]
cfg = "32k5,M,64k5,M"
batch_norm = true
head = "gap"
num_classes = 10
description = "two 5x5 stages"

[archs.tiny_list]
cfg = [16, "M", 32, 32, "M"]
width = 0.5
"""


def test_read_and_register(tmp_path):
    path = tmp_path / "archs.toml"
    path.write_text(GOOD)
    specs = read_arch_file(path)
    assert [s.name for s in specs] == ["tiny_k5", "tiny_list"]
    assert specs[0].batch_norm and specs[0].head == "gap" and specs[0].cfg_str == "32k5,M,64k5,M"
    assert specs[1].cfg_str == "16,M,32x2,M" and specs[1].width == 0.5
    try:
        assert load_arch_file(path) == ["tiny_k5", "tiny_list"]
        assert get_arch("tiny_k5").num_classes == 10
        with pytest.raises(UsageError, match="already registered"):
            load_arch_file(path)
    finally:
        for name in ("tiny_k5", "tiny_list"):
            _ARCHS.pop(name, None)


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("[archs.a]\ncfg = '64,foo'\n", r"\[archs.a\]: unknown cfg token 'foo'"),
        ("[archs.a]\nwidth = 2\n", "needs a cfg"),
        ("[archs.a]\ncfg = '8'\ndepth = 3\n", "unknown key"),
        ("[archs.a]\ncfg = '8'\nwidth = 0\n", "width must be > 0"),
        ("title = 'x'\n", "no \\[archs.NAME\\] tables"),
        ("[archs.a\n", "not readable TOML"),
    ],
)
def test_bad_arch_files(tmp_path, text, fragment):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(UsageError, match=fragment):
        read_arch_file(path)


def test_missing_arch_file(tmp_path):
    with pytest.raises(UsageError, match="does not exist"):
        read_arch_file(tmp_path / "missing.toml")
