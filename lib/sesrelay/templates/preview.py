"""`sesrelay templates preview NAME --data JSON`: one template of the folder rendered locally,
with the emulator's renderer (the one its SendEmail uses), so what the preview shows is what
the emulator would send. The data is read as SES reads TemplateData: a JSON object of strings,
numbers, booleans or null; a variable the data lacks is refused, as SES refuses the send."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sesrelay.emulator.ses.render import Scalar, parse_template_data, render
from sesrelay.errors import ConfigError
from sesrelay.templates.folder import TemplateFile, is_template_name, load_file


class PreviewError(Exception):
    """The preview cannot be made; `usage` when the command line itself is wrong (exit 2)."""

    def __init__(self, message: str, *, usage: bool = False) -> None:
        super().__init__(message)
        self.message, self.usage = message, usage


@dataclass(frozen=True)
class Preview:
    """The rendered parts, and the data keys no part uses."""

    template: TemplateFile
    subject: str
    html: str
    text: str
    unused: tuple[str, ...]


def read_data(text: str) -> dict[str, Scalar]:
    """--data: the JSON object SES would take as TemplateData."""
    data = parse_template_data(text)
    if data is None:
        raise PreviewError(
            "--data must be a JSON object whose values are strings, numbers, booleans or null, "
            "as SES takes TemplateData",
            usage=True,
        )
    return data


def find(folder: Path, name: str) -> TemplateFile:
    """The template `name` of the folder (its `<name>.html` and `<name>.txt`)."""
    if not is_template_name(name):
        raise PreviewError(
            f"{name!r} is not a template name (1 to 64 letters, digits, '_' or '-')", usage=True
        )
    path = folder / f"{name}.html"
    if not path.is_file():
        known = sorted(p.stem for p in folder.glob("*.html")) if folder.is_dir() else []
        listed = ", ".join(known) if known else "none"
        raise PreviewError(f"no template {name} in {folder} (templates there: {listed})")
    try:
        return load_file(path)
    except ConfigError as exc:
        raise PreviewError("; ".join(str(p) for p in exc.problems)) from None


def preview(template: TemplateFile, data: dict[str, Scalar]) -> Preview:
    """The template rendered with `data`; PreviewError names every variable `data` lacks."""
    missing = sorted(template.variables - set(data))
    if missing:
        raise PreviewError(
            f"template {template.name}: --data lacks {', '.join(missing)} "
            f"(the template uses {', '.join(sorted(template.variables))}); SES would refuse "
            "the send"
        )
    unused = tuple(sorted(set(data) - template.variables))
    return Preview(
        template,
        render(template.subject, data),
        render(template.html, data),
        render(template.text, data),
        unused,
    )
