"""The README stays true: the two commands and every setting the code reads."""

from pathlib import Path

from server.config import SETTINGS

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def test_readme_names_the_two_commands():
    assert "make run" in README and "make test" in README


def test_readme_documents_every_setting():
    missing = [s.name for s in SETTINGS if f"`{s.name}`" not in README]
    assert missing == []
