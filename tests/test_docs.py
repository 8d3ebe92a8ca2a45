"""The README and the pages in docs/: short, hard-wrapped, their links resolve, every page is listed, and they speak to users."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
INDEX = DOCS / "index.md"

README_MAX_LINES = 150
MAX_WIDTH = 100

# Inline links and images: [text](target) or ![alt](target), the text possibly over several lines.
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
URL = re.compile(r"\b(?:https?|ftp)://\S+|\bmailto:\S+")
INLINE_CODE = re.compile(r"`[^`]*`")
# Words about how the project was made, not about what it does: they have no place in user docs.
FORBIDDEN = re.compile(r"\b(?:the issue|issues?|issue's|seed slides?|goals?|sessions?)\b", re.IGNORECASE)
# An abbreviated or full commit hash: 7 to 40 hex digits with at least one letter and one digit.
COMMIT_HASH = re.compile(r"\b(?=[0-9a-f]*[a-f])(?=[0-9a-f]*[0-9])[0-9a-f]{7,40}\b")


def doc_pages() -> list[Path]:
    return sorted(DOCS.rglob("*.md"))


def all_pages() -> list[Path]:
    return [README, *doc_pages()]


def page_id(path: Path) -> str:
    return str(path.relative_to(ROOT))


def prose_lines(text: str) -> list[tuple[int, str]]:
    """The numbered lines outside fenced code blocks and tables."""
    lines, in_code = [], False
    for number, line in enumerate(text.splitlines(), start=1):
        if line.lstrip().startswith(("```", "~~~")):
            in_code = not in_code
            continue
        if in_code or line.lstrip().startswith("|"):
            continue
        lines.append((number, line))
    return lines


def prose(text: str, keep_tables: bool = True) -> str:
    """The text without fenced code blocks (tables kept unless asked), inline code removed."""
    kept, in_code = [], False
    for line in text.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            in_code = not in_code
            continue
        if in_code or (not keep_tables and line.lstrip().startswith("|")):
            continue
        kept.append(line)
    return INLINE_CODE.sub("", "\n".join(kept))


def test_the_docs_exist():
    assert README.is_file()
    assert INDEX.is_file()
    assert len(doc_pages()) > 1


def test_the_readme_is_short():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines; at most {README_MAX_LINES}."


@pytest.mark.parametrize("path", all_pages(), ids=page_id)
def test_prose_is_hard_wrapped(path):
    text = path.read_text(encoding="utf-8")
    long = [f"line {number}: {len(line)} characters" for number, line in prose_lines(text) if len(line) > MAX_WIDTH]
    assert not long, f"{page_id(path)}: lines over {MAX_WIDTH} characters outside code blocks and tables: {long}"


@pytest.mark.parametrize("path", all_pages(), ids=page_id)
def test_relative_links_point_to_existing_files(path):
    broken = []
    for target in LINK.findall(prose(path.read_text(encoding="utf-8"))):
        if target.startswith("#") or re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):
            continue  # an anchor in the page itself, or a URL (http, https, mailto, ...)
        relative = target.split("#", 1)[0].split("?", 1)[0]
        if not (path.parent / relative).exists():
            broken.append(target)
    assert not broken, f"{page_id(path)}: links to missing files: {broken}"


@pytest.mark.parametrize("path", all_pages(), ids=page_id)
def test_the_text_speaks_to_users(path):
    text = URL.sub("", path.read_text(encoding="utf-8"))
    found = sorted({match.group(0).lower() for match in FORBIDDEN.finditer(text)})
    assert not found, f"{page_id(path)} mentions {found}: write for users, not about how the project was made."
    hashes = sorted(set(COMMIT_HASH.findall(text)))
    assert not hashes, f"{page_id(path)} mentions what look like commit hashes: {hashes}"


def test_every_docs_page_is_listed_in_the_index():
    listed = set()
    for target in LINK.findall(prose(INDEX.read_text(encoding="utf-8"))):
        if not re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):
            listed.add((INDEX.parent / target.split("#", 1)[0]).resolve())
    missing = [page_id(page) for page in doc_pages() if page != INDEX and page.resolve() not in listed]
    assert not missing, f"docs/index.md does not list: {missing}"


def test_the_readme_links_the_docs_index():
    targets = {target.split("#", 1)[0] for target in LINK.findall(prose(README.read_text(encoding="utf-8")))}
    assert "docs/index.md" in targets
