"""The `templates/` folder: one SES template per `<name>.html`, with an optional `<name>.txt`
text part beside it. The HTML file starts with a small header in a comment:

```html
<!--
subject: Welcome, {{name}}
id: 100001
-->
<p>Hello {{name}}, welcome aboard.</p>
```

- `subject`: the Subject callers are expected to send with it (SES takes the Subject from each
  request; the header keeps it next to the body for previews and checks). Optional.
- `id`: the TemplateID the template has in the account, where it is known. Optional; `sync`
  finds templates by name, uses `id` only to choose among account templates of the same name,
  and says so when the account's TemplateID differs (IDs differ between accounts).
- The template's name is the file name without `.html` (SES's TemplateName).

Everything after the header is the HTML part, as SES will store it (a final newline is dropped,
in the text part too). Variables are `{{name}}`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from sesrelay.errors import ConfigError, ConfigProblem

FOLDER = "templates"
#: SES's variable syntax, as the emulator's renderer reads it.
VARIABLE_RE = re.compile(r"\{\{\s*([^{}\s]+)\s*\}\}")
_HEADER_RE = re.compile(r"\A\s*<!--(.*?)-->\s*\n?", re.DOTALL)
_NAME_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_HEADER_KEYS = ("subject", "id")


@dataclass(frozen=True)
class TemplateFile:
    """One template of the folder."""

    name: str
    html: str
    text: str
    subject: str
    template_id: int | None
    path: Path

    @property
    def variables(self) -> frozenset[str]:
        """Every `{{variable}}` of the HTML, the text part and the subject."""
        found = (VARIABLE_RE.findall(part) for part in (self.html, self.text, self.subject))
        return frozenset(name for names in found for name in names)


def is_template_name(name: str) -> bool:
    """A name a template file may have (and so a name `sync` gives SES)."""
    return _NAME_RE.fullmatch(name) is not None


def load_folder(root: Path) -> list[TemplateFile]:
    """The templates of `root` (a `templates/` folder), sorted by name; ConfigError lists every
    problem of every file. A folder that does not exist holds no templates."""
    if not root.is_dir():
        return []
    found: list[TemplateFile] = []
    problems: list[ConfigProblem] = []
    for path in sorted(root.glob("*.html")):
        try:
            found.append(load_file(path))
        except ConfigError as exc:
            problems += exc.problems
    for path in sorted(root.glob("*.txt")):
        if not path.with_suffix(".html").exists():
            problems.append(ConfigProblem(str(path), "a text part without its .html file"))
    if problems:
        raise ConfigError(problems)
    return found


def load_file(path: Path) -> TemplateFile:
    """One `<name>.html` (and its `<name>.txt`, if any); ConfigError says what is wrong."""
    where = str(path)
    if not is_template_name(path.stem):
        raise ConfigError(
            [ConfigProblem(where, "the file name must be 1 to 64 letters, digits, '_' or '-'")]
        )
    try:
        source = path.read_text(encoding="utf-8")
        text_path = path.with_suffix(".txt")
        text = text_path.read_text(encoding="utf-8") if text_path.exists() else ""
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([ConfigProblem(where, f"cannot read ({exc})")]) from None
    header, html = _split_header(source)
    problems = [
        ConfigProblem(where, f"header: unknown key {k!r}") for k in header if k not in _HEADER_KEYS
    ]
    template_id = None
    if "id" in header:
        if header["id"].isdigit() and int(header["id"]) > 0:
            template_id = int(header["id"])
        else:
            problems.append(ConfigProblem(where, "header: id must be a positive integer"))
    if not html.strip() and not text.strip():
        problems.append(ConfigProblem(where, "the template has no content"))
    if problems:
        raise ConfigError(problems)
    # A file's final newline is the editor's, not the template's.
    html, text = html.removesuffix("\n"), text.removesuffix("\n")
    return TemplateFile(path.stem, html, text, header.get("subject", ""), template_id, path)


def _split_header(source: str) -> tuple[dict[str, str], str]:
    """(`key: value` lines of a leading comment, the rest); no comment: no header."""
    match = _HEADER_RE.match(source)
    if match is None:
        return {}, source
    header: dict[str, str] = {}
    for line in match.group(1).splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip():
            header[key.strip().lower()] = value.strip()
    return header, source[match.end() :]
