"""Every relative link, `#anchor` and `docs/...` path named in the repository resolves (the
checker: tests/doclinks.py), and the checker itself finds what is broken."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import doclinks
from tests.doclinks import Problem, anchors, check, slug

ROOT = Path(__file__).resolve().parents[2]
#: Paths that name another project's files, not this repository's.
OTHER_PROJECTS: set[tuple[str, str]] = set()
#: Files whose references are samples, broken on purpose.
SAMPLES = {"tests/unit/test_doc_links.py"}
GUIDES = [
    "http-api", "timers", "webhooks", "delivery-events", "campaigns", "templates", "emulator",
    "configuration", "deploy", "reliability", "benchmarks", "architecture",
]  # fmt: skip


def test_every_link_and_docs_path_of_the_repository_resolves() -> None:
    problems = check(ROOT, OTHER_PROJECTS, SAMPLES)
    assert not problems, "fix these references:\n" + "\n".join(map(str, problems))


def test_the_readme_links_every_guide() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [name for name in GUIDES if f"](docs/{name}.md)" not in readme]
    assert missing == []
    assert len(readme.splitlines()) <= 200  # a front door, not the manual


# --- the checker itself ------------------------------------------------------------------------


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


GOOD = {
    "README.md": (
        "# Title\n\n[guide](docs/guide.md), [its setup](docs/guide.md#set-it-up),"
        " [here](#title), [web](https://example.com/missing.md), ![logo](img/logo.png)\n\n"
        "```sh\ncat [not](a-link.md)   # code is not prose\n```\n"
        "`[not](a-link-either.md)` and `docs/guide.md` in code\n\n[ref]: docs/guide.md\n"
    ),
    "img/logo.png": "png",
    "docs/guide.md": (
        "# Guide\n\n## Set it up\n\n## Set it up\n\n## Checking `sesrelay.yaml`\n\n"
        "[back](../README.md#title), [twin](#set-it-up-1), [yaml](#checking-sesrelayyaml)\n"
    ),
    "serverless.yml": "# see docs/guide.md#set-it-up\nname: x\n",
    "lib/cli.py": (
        '"""Help: see docs/guide.md, or [the guide](../docs/guide.md)."""\n'
        'URL = "https://example.com/docs/anything.md"  # docs/guide.md\n'
        "handlers = {}\n# handlers[name](call) is code, not a link\n"
    ),
    ".venv/lib/site.md": "[dead](nowhere.md)\n",  # not the repository's own text
}


def test_a_tree_whose_references_all_resolve_passes(tmp_path: Path) -> None:
    assert check(_tree(tmp_path, GOOD)) == []


@pytest.mark.parametrize(
    ("name", "text", "problem"),
    [
        (
            "README.md",
            "# Title\n\n[gone](docs/gone.md)\n",
            Problem("README.md:3", "docs/gone.md", "no such file"),
        ),
        (
            "docs/other.md",
            "[there](guide.md#tear-it-down)\n",
            Problem(
                "docs/other.md:1",
                "guide.md#tear-it-down",
                "no heading with the anchor #tear-it-down in docs/guide.md",
            ),
        ),
        (
            "docs/self.md",
            "# Self\n\n[up](#nowhere)\n",
            Problem(
                "docs/self.md:3", "#nowhere", "no heading with the anchor #nowhere in docs/self.md"
            ),
        ),
        (
            "docs/prose.md",
            "See docs/missing.md for more.\n",
            Problem("docs/prose.md:1", "docs/missing.md", "no such file"),
        ),
        (
            "sesrelay.yaml",
            "# Guide: docs/timer.md\njobs: {}\n",
            Problem("sesrelay.yaml:1", "docs/timer.md", "no such file"),
        ),
        (
            "lib/help.py",
            'X = 1\nHELP = "see docs/guide.md#set-up for the steps"\n',
            Problem(
                "lib/help.py:2",
                "docs/guide.md#set-up",
                "no heading with the anchor #set-up in docs/guide.md",
            ),
        ),
        (
            "lib/doc.py",
            '"""Module.\n\nLinks to [the guide](../docs/guides.md).\n"""\n',
            Problem("lib/doc.py:3", "../docs/guides.md", "no such file"),
        ),
    ],
    ids=["file", "anchor", "own-anchor", "bare-docs-path", "yaml", "help-text", "python-link"],
)
def test_a_broken_reference_is_found(
    tmp_path: Path, name: str, text: str, problem: Problem
) -> None:
    root = _tree(tmp_path, {**GOOD, name: text})
    assert check(root) == [problem]


def test_a_reference_to_another_project_can_be_set_aside(tmp_path: Path) -> None:
    root = _tree(tmp_path, {**GOOD, "lib/model.py": '"""After tencent-scf docs/configure.md."""\n'})
    assert [p.target for p in check(root)] == ["docs/configure.md"]
    assert check(root, {("lib/model.py", "docs/configure.md")}) == []


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        ("Quick start", "quick-start"),
        ("Checking `sesrelay.yaml`", "checking-sesrelayyaml"),
        ("`sesrelay deploy [--dry-run]`", "sesrelay-deploy---dry-run"),
        ("The alternative: Tencent's `scf deploy`", "the-alternative-tencents-scf-deploy"),
        ("2. The job", "2-the-job"),
        ("SES's rate limit across the fleet", "sess-rate-limit-across-the-fleet"),
        ("snake_case and [a link](x.md)", "snake_case-and-a-link"),
    ],
)
def test_headings_are_slugged_as_github_does(heading: str, anchor: str) -> None:
    assert slug(heading) == anchor


def test_repeated_headings_are_numbered_and_code_blocks_hold_none() -> None:
    text = '# A\n\n## A\n\n```sh\n# A comment, not a heading\n```\n\n## A\n\n<a id="custom"></a>\n'
    assert anchors(text) == {"a", "a-1", "a-2", "custom"}


def test_only_the_repository_own_files_are_read(tmp_path: Path) -> None:
    root = _tree(tmp_path, GOOD)
    read = {str(p.relative_to(root)) for p in doclinks.repository_files(root)}
    assert read == {"README.md", "docs/guide.md", "serverless.yml", "lib/cli.py"}
