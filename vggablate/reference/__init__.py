"""Public reference numbers shipped with the package (torchvision's weight metadata, the VGG paper).

``vgg_reference.json`` is a copy of the project's shared reference file, sources inside it;
a test checks the copy against the original.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

PATH = Path(__file__).with_name("vgg_reference.json")


@cache
def load_reference() -> dict:
    """Load the reference numbers (read once per process)."""
    return json.loads(PATH.read_text())
