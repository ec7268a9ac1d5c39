"""TemplateData against the `templates/` folder (sesrelay.templates.folder): for each job and
webhook mapping that sends with a template the folder holds, found by `Template.TemplateName`
(the file's name) or by `Template.TemplateID` (a file's `id:` header), the keys its TemplateData
gives against the variables the send needs: those of the template's HTML and text parts, and
those of the Subject the send carries (SES fills `{{variables}}` in the Subject too).

- a variable the data does not give is a problem: SES refuses the send (TemplateNotMatchData);
- a key that nothing uses is a problem too: a typo, or a variable the template has dropped.

A job's keys are those of its params after the tick is rendered; a mapping's are the keys it
writes under TemplateData (their values are expressions), leaving out `null` literals. A send
whose template, keys or name cannot be known offline (the folder lacks the template, the name
or the data comes from the delivery) is not compared, and counted as such (`Coverage`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sesrelay.config.check.send import NEVER, classify, constant_of
from sesrelay.config.model import ConfigError, ConfigProblem
from sesrelay.template_names import TEMPLATE_NAME
from sesrelay.templates.folder import FOLDER, VARIABLE_RE, TemplateFile, load_folder

_SHOWN = 10


@dataclass(frozen=True)
class Written:
    """What one send writes about its template, as far as it is known offline."""

    name: str | None
    template_id: int | None
    #: the TemplateData keys; None when they come from the delivery or are unreadable
    keys: frozenset[str] | None
    #: the Subject text the send carries (a mapping's: its expression, whose raw strings hold
    #: any `{{variables}}`); "" when unknown
    subject: str


@dataclass(frozen=True)
class Coverage:
    """How many of the file's template sends were compared with the folder."""

    folder: Path
    held: int
    sends: int
    compared: int

    def describe(self) -> str | None:
        """One line for `sesrelay config check`; None when nothing sends with a template."""
        if not self.sends:
            return None
        folder = self.folder.as_posix().rstrip("/") + "/"
        if not self.held:
            return f"TemplateData not compared: no templates in {folder}"
        return (
            f"TemplateData compared with the templates in {folder}: {self.compared} of "
            f"{self.sends} template send(s)"
        )


def default_folder(config: Path) -> Path:
    """Where the templates of the config file at `config` are: `templates/` beside it."""
    return config.parent / FOLDER


class TemplateCheck:
    """The folder, loaded once per check, and the comparisons made with it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.problems: list[ConfigProblem] = []
        try:
            self.templates = load_folder(folder)
        except ConfigError as exc:  # a broken file: the comparison cannot be trusted
            self.templates = []
            self.problems = list(exc.problems)
        self._by_name = {template.name: template for template in self.templates}
        self._by_id = {t.template_id: t for t in self.templates if t.template_id is not None}
        self._sends = 0
        self._compared = 0

    @property
    def coverage(self) -> Coverage:
        """The sends seen so far, and how many of them were compared."""
        return Coverage(self.folder, len(self.templates), self._sends, self._compared)

    def compare(self, prefix: str, written: Written | None) -> list[ConfigProblem]:
        """The mismatches of one send at `prefix` (`jobs.<name>.params`, `webhooks.<name>.send`)."""
        if written is None:
            return []
        self._sends += 1
        template = None
        if written.name is not None:
            template = self._by_name.get(written.name)
        elif written.template_id is not None:
            template = self._by_id.get(written.template_id)
        if template is None or written.keys is None:
            return []
        self._compared += 1
        return _mismatches(f"{prefix}.Template.TemplateData", template, written)


def job_template(params: dict[str, Any]) -> Written | None:
    """What a job's rendered params write about their template (None: no Template)."""
    template = params.get("Template")
    if not isinstance(template, dict):
        return None
    name = template.get(TEMPLATE_NAME)
    template_id = template.get("TemplateID")
    subject = params.get("Subject")
    return Written(
        name if isinstance(name, str) else None,
        template_id if isinstance(template_id, int) else None,
        _keys(template.get("TemplateData")),
        subject if isinstance(subject, str) else "",
    )


def mapping_template(fields: dict[str, Any]) -> Written | None:
    """What a webhook mapping's `send` writes about its template (None: no Template mapping)."""
    template = fields.get("Template")
    if not isinstance(template, dict):
        return None
    name = constant_of(template.get(TEMPLATE_NAME))
    template_id = constant_of(template.get("TemplateID"))
    data = template.get("TemplateData")
    if isinstance(data, dict):
        keys: frozenset[str] | None = frozenset(
            str(key) for key, value in data.items() if classify(value) is not NEVER
        )
    else:
        keys = _keys(constant_of(data))
    subject = fields.get("Subject")
    return Written(
        name if isinstance(name, str) else None,
        template_id if isinstance(template_id, int) else None,
        keys,
        subject if isinstance(subject, str) else "",
    )


def _keys(data: object) -> frozenset[str] | None:
    """The keys of TemplateData written as a mapping or as its JSON text; None if neither."""
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except (ValueError, RecursionError):
            return None  # the SES rules report it
    return frozenset(str(key) for key in data) if isinstance(data, dict) else None


def _mismatches(path: str, template: TemplateFile, written: Written) -> list[ConfigProblem]:
    in_parts = _variables(template.html, template.text)
    in_subject = _variables(written.subject)
    needed = in_parts | in_subject
    keys = written.keys or frozenset()
    where = f"template {template.name!r} ({template.path})"
    problems = []
    for name in sorted(needed - keys):
        used = f"a variable of {where}" if name in in_parts else "used in the Subject"
        message = (
            f"is missing: {{{{{name}}}}} is {used}, and SES refuses a send whose TemplateData "
            f"lacks one (TemplateNotMatchData){_case_hint(name, keys)}"
        )
        problems.append(ConfigProblem(f"{path}.{name}", message))
    for key in sorted(keys - needed):
        known = ", ".join(sorted(needed)[:_SHOWN]) or "none"
        message = (
            f"is not a variable of {where} nor of the Subject (they use: {known}): a typo, or "
            f"a variable the template no longer has{_case_hint(key, needed)}"
        )
        problems.append(ConfigProblem(f"{path}.{key}", message))
    return problems


def _variables(*texts: str) -> frozenset[str]:
    return frozenset(name for text in texts for name in VARIABLE_RE.findall(text))


def _case_hint(name: str, others: Iterable[str]) -> str:
    near = [other for other in others if other != name and other.lower() == name.lower()]
    return f" (there is {near[0]!r}: variable names are case-sensitive)" if near else ""
