"""Links in the repository that cannot rot: every reference to a file of the checkout resolves.

What is checked:

- in every Markdown file (outside `.venv`, `build`, `dist`, `node_modules`, `test-artifacts`,
  caches and `*.egg-info`): each relative link `[text](path)`, `[text](path#anchor)`,
  `[text](#anchor)` and reference definition `[text]: path`, outside fenced code blocks and
  inline code. The path is read relative to the Markdown file; it must exist, and an anchor
  into a Markdown file must be one of its headings, slugged as GitHub does (`slug`), or an
  explicit `<a id=...>` / `<a name=...>`;
- in every YAML and TOML file, and in the strings and comments of the Python code (help text
  included): each Markdown link to a `.md` file, read the same way;
- everywhere, code blocks included: each bare `docs/...` path (`docs/deploy.md`,
  `docs/deploy.md#production`), read relative to the repository root.

Links with a scheme (`https:`, `mailto:`) are not fetched: they are someone else's to keep.
"""

from __future__ import annotations

import io
import os
import re
import tokenize
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

#: Folders that are not the repository's own text: environments, build output, caches.
SKIPPED_DIRS = {
    ".git", ".venv", "venv", "build", "dist", "node_modules", "test-artifacts",
    ".pytest_cache", ".mypy_cache", ".ruff_cache", "__pycache__", ".hypothesis",
}  # fmt: skip
MARKDOWN = {".md"}
CONFIG = {".yml", ".yaml", ".toml"}
PYTHON = {".py"}

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_EXPLICIT_ANCHOR = re.compile(r"<a\s[^>]*?\b(?:id|name)\s*=\s*[\"']([^\"']+)[\"']", re.I)
_INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1")
_LINK = re.compile(r"\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^()\s<>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_DEFINITION = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)")
_MD_TARGET = re.compile(r"^[\w./-]+\.md(?:#[\w-]+)?$")
_BARE_DOCS = re.compile(r"(?<![\w./-])docs/[\w./-]*[\w-](?:#[\w-]+)?")
_SCHEME = re.compile(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*:|//)")


@dataclass(frozen=True)
class Reference:
    """A file (and maybe an anchor) named at one line of one file of the repository."""

    source: Path
    line: int
    target: str
    from_root: bool  # a bare docs/ path: read from the repository root, not the source's folder


@dataclass(frozen=True)
class Problem:
    """A reference that does not resolve, and why."""

    where: str  # path:line, relative to the repository root
    target: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.target}: {self.reason}"


def slug(heading: str) -> str:
    """A heading's anchor as GitHub makes it: the text as rendered (code, links and HTML tags
    reduced to their text), lower-cased, punctuation but `-` and `_` removed, spaces to `-`."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link reads as its text
    text = re.sub(r"<[^>]+>", "", text).replace("`", "")
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    """Every anchor of a Markdown text: its headings' slugs, duplicates numbered as GitHub does
    (`x`, `x-1`, `x-2`), and explicit `<a id>` / `<a name>` anchors."""
    seen: dict[str, int] = {}
    for _, line in _outside_fences(markdown):
        heading = _HEADING.match(line)
        if heading:
            base = candidate = slug(heading.group(2) or "")
            while candidate in seen:
                seen[base] += 1
                candidate = f"{base}-{seen[base]}"
            seen[candidate] = 0
    explicit = set(_EXPLICIT_ANCHOR.findall(markdown))
    return set(seen) | explicit


def _outside_fences(markdown: str) -> Iterator[tuple[int, str]]:
    """(line number, line) of every line outside fenced code blocks."""
    fence: str | None = None
    for number, line in enumerate(markdown.splitlines(), 1):
        opening = _FENCE.match(line)
        if fence is None and opening:
            fence = opening.group(1)
        elif fence is not None and line.strip().startswith(fence[0] * len(fence)):
            if not line.strip().strip(fence[0]):
                fence = None
        elif fence is None:
            yield number, line


def markdown_references(path: Path, text: str) -> list[Reference]:
    """The links of a Markdown file (outside code) and its bare docs/ paths (anywhere)."""
    found = []
    for number, line in _outside_fences(text):
        prose = _INLINE_CODE.sub("", line)
        targets = _LINK.findall(prose)
        definition = _DEFINITION.match(prose)
        if definition:
            targets.append(definition.group(1))
        found += [Reference(path, number, t, False) for t in targets if not _SCHEME.match(t)]
    return found + bare_docs_paths(path, text)


def bare_docs_paths(path: Path, text: str, first_line: int = 1) -> list[Reference]:
    """Each `docs/...` path of a text that is not part of a longer path or a URL."""
    return [
        Reference(path, first_line + text.count("\n", 0, hit.start()), hit.group(0), True)
        for hit in _BARE_DOCS.finditer(text)
    ]


def _md_links(path: Path, text: str, first_line: int = 1) -> list[Reference]:
    """Markdown links to `.md` files in text that is not Markdown (help text, comments)."""
    found = []
    for hit in _LINK.finditer(text):
        if _MD_TARGET.match(hit.group(1)):
            line = first_line + text.count("\n", 0, hit.start())
            found.append(Reference(path, line, hit.group(1), False))
    return found


def text_references(path: Path, text: str) -> list[Reference]:
    """The references of a YAML or TOML file: links to `.md` files and bare docs/ paths."""
    return _md_links(path, text) + bare_docs_paths(path, text)


def python_references(path: Path, source: str) -> list[Reference]:
    """The references in a Python file's strings and comments (docstrings and help included)."""
    kinds = {tokenize.STRING, tokenize.COMMENT}
    kinds |= {getattr(tokenize, "FSTRING_MIDDLE", tokenize.STRING)}
    found = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type in kinds:
            line = token.start[0]
            found += _md_links(path, token.string, line) + bare_docs_paths(path, token.string, line)
    return found


def resolve(root: Path, ref: Reference, anchors_of: dict[Path, set[str]]) -> str | None:
    """Why a reference does not resolve, or None when it does."""
    target, _, anchor = ref.target.partition("#")
    base = root if ref.from_root else ref.source.parent
    file = (base / unquote(target)).resolve() if target else ref.source.resolve()
    if not file.exists():
        return "no such file"
    if anchor and file.suffix in MARKDOWN and file.is_file():
        if file not in anchors_of:
            anchors_of[file] = anchors(file.read_text(encoding="utf-8"))
        if anchor not in anchors_of[file]:
            return f"no heading with the anchor #{anchor} in {_relative(root, file)}"
    return None


def repository_files(root: Path) -> Iterator[Path]:
    """The Markdown, YAML, TOML and Python files of the repository, build output left out."""
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and not d.endswith(".egg-info"))
        for name in sorted(files):
            path = Path(folder) / name
            if path.suffix in MARKDOWN | CONFIG | PYTHON:
                yield path


def references(path: Path) -> list[Reference]:
    """The references of one file, read as its kind says."""
    text = path.read_text(encoding="utf-8")
    if path.suffix in MARKDOWN:
        return markdown_references(path, text)
    if path.suffix in PYTHON:
        return python_references(path, text)
    return text_references(path, text)


def check(
    root: Path, ignored: Iterable[tuple[str, str]] = (), skipped: Iterable[str] = ()
) -> list[Problem]:
    """Every reference of the repository under `root` that does not resolve. `ignored` holds
    (file, target) pairs that name another project's files, `skipped` files whose references
    are samples, both relative to `root`."""
    pairs, files = set(ignored), set(skipped)
    anchors_of: dict[Path, set[str]] = {}
    problems = []
    for path in repository_files(root):
        where = _relative(root, path)
        if where in files:
            continue
        for ref in references(path):
            if (where, ref.target) in pairs:
                continue
            reason = resolve(root, ref, anchors_of)
            if reason is not None:
                problems.append(Problem(f"{where}:{ref.line}", ref.target, reason))
    return list(dict.fromkeys(problems))  # a link into docs/ is also a bare path: report once


def _relative(root: Path, path: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)
