"""The map stays true: every repository path that the README and the conventions name exists."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# A path of the repository's own folders; ones with placeholders (<stem>, *) are patterns, not paths.
PATH = re.compile(r"(?<![\w./-])((?:server|tests|scripts|bench|migrations|docs|static)/[\w./<>*-]*)")


def named_paths(doc: str) -> set[str]:
    """The repository paths a document names, without placeholders or trailing punctuation."""
    text = (ROOT / doc).read_text(encoding="utf-8")
    return {m.rstrip(".,:;") for m in PATH.findall(text) if "<" not in m and "*" not in m}


@pytest.mark.parametrize("doc", ["README.md", "docs/conventions.md"])
def test_every_named_path_exists(doc):
    missing = sorted(p for p in named_paths(doc) if not (ROOT / p).exists())
    assert missing == []


def test_the_paths_are_found():
    # The check can fail: the conventions name the plumbing and a service domain.
    assert {"server/plumbing/", "server/services/", "server/scope.py"} <= named_paths("docs/conventions.md")
