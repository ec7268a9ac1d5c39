"""`sesrelay templates sync` (and the templates step of `sesrelay deploy`): converge the SES
account's templates to the `templates/` folder, a plan first.

- Templates are matched by name (SES's TemplateName, the file name). A file's `id:` header only
  chooses among several account templates of that name; IDs differ between accounts.
- A template the account lacks is created (CreateEmailTemplate); one whose HTML or text part
  differs is updated (UpdateEmailTemplate, both parts: a part the folder lacks is removed).
  Tencent reviews every created or updated template, and sends with it fail until it is approved.
  Updating a template still under review is allowed (Tencent documents no refusal for it) and
  starts its review again; the plan says so.
- Account templates the folder does not have are kept, and listed; `--prune` deletes them
  (DeleteEmailTemplate), whatever their status, a template under review included.
- A template of the folder that Tencent rejected, unchanged since, and a name several account
  templates share without an `id:` header to choose, are problems: the sync does what else it
  can and exits 1.

Subjects are not synced: SES templates have none (each send carries its Subject).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from sesrelay.errors import RelayError, SesError
from sesrelay.templates.account import REJECTED, UNDER_REVIEW, Account, AccountTemplate
from sesrelay.templates.folder import TemplateFile

Action = Literal["create", "update", "no change", "delete", "keep", "refused"]
WRITES = ("delete", "update", "create")  # the order they are applied in
_DONE = {"create": "created", "update": "updated", "delete": "deleted"}
Say = Callable[[str], None]


@dataclass(frozen=True)
class Step:
    """One line of the plan: what happens to one template."""

    action: Action
    name: str
    detail: str = ""
    template_id: int | None = None
    source: TemplateFile | None = None

    def __str__(self) -> str:
        return f"  {self.action:<9}  template {self.name}" + (
            f"  ({self.detail})" if self.detail else ""
        )


@dataclass(frozen=True)
class Plan:
    """The steps, in folder order then the account's extras, and the problems found."""

    steps: tuple[Step, ...]
    problems: tuple[str, ...] = ()

    @property
    def writes(self) -> list[Step]:
        """The steps that call SES, in the order they are applied."""
        return sorted(
            (s for s in self.steps if s.action in WRITES), key=lambda s: WRITES.index(s.action)
        )


@dataclass
class _Planner:
    """Builds a Plan: one template of the folder at a time, then the account's extras."""

    account: Sequence[AccountTemplate]
    content: Callable[[int], tuple[str, str]]
    prune: bool
    steps: list[Step] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    matched: set[int] = field(default_factory=set)

    def template(self, wanted: TemplateFile) -> None:
        same = [t for t in self.account if t.name == wanted.name]
        chosen = [t for t in same if t.template_id == wanted.template_id] if len(same) > 1 else same
        if not same:
            self.steps.append(Step("create", wanted.name, "new; Tencent reviews it", None, wanted))
            return
        if len(chosen) != 1:
            ids = ", ".join(f"#{t.template_id}" for t in same)
            why = f"{len(same)} account templates have this name ({ids})"
            self.steps.append(Step("refused", wanted.name, why))
            self.problems.append(
                f"template {wanted.name}: {why}; put `id: N` in the header of "
                f"{wanted.path.name} to say which one it is"
            )
            self.matched.update(t.template_id for t in same)
            return
        self.compare(wanted, chosen[0])

    def compare(self, wanted: TemplateFile, current: AccountTemplate) -> None:
        self.matched.add(current.template_id)
        html, text = self.content(current.template_id)
        pairs = (("html", wanted.html, html), ("text", wanted.text, text))
        differ = [part for part, mine, theirs in pairs if mine != theirs]
        where = f"#{current.template_id}, {current.status_text()}"
        if wanted.template_id is not None and wanted.template_id != current.template_id:
            where += f"; header id {wanted.template_id} differs"
        if differ:
            again = (
                "its review starts again" if current.status == UNDER_REVIEW else "reviewed again"
            )
            detail = f"{where}; {' and '.join(differ)} changed, {again}"
            self.steps.append(Step("update", wanted.name, detail, current.template_id, wanted))
            return
        if current.status == UNDER_REVIEW:
            where += "; sends with it fail until Tencent approves it"
        self.steps.append(Step("no change", wanted.name, where, current.template_id, wanted))
        if current.status == REJECTED:
            self.problems.append(
                f"template {wanted.name} (#{current.template_id}) was {current.status_text()}; "
                "change it and sync again to submit it for review"
            )

    def extras(self) -> None:
        for template in self.account:
            if template.template_id in self.matched:
                continue
            where = f"#{template.template_id}, {template.status_text()}"
            if self.prune:
                detail = f"{where}; not in the folder"
                self.steps.append(Step("delete", template.name, detail, template.template_id))
            else:
                detail = f"{where}; not in the folder: --prune deletes it"
                self.steps.append(Step("keep", template.name, detail, template.template_id))


def make_plan(
    folder: Sequence[TemplateFile],
    account: Sequence[AccountTemplate],
    content: Callable[[int], tuple[str, str]],
    *,
    prune: bool = False,
) -> Plan:
    """The plan that makes `account` hold `folder`; `content` reads one template's
    (html, text), asked only for the account templates the folder names."""
    planner = _Planner(account, content, prune)
    for wanted in folder:
        planner.template(wanted)
    planner.extras()
    return Plan(tuple(planner.steps), tuple(planner.problems))


def read_plan(account: Account, folder: Sequence[TemplateFile], *, prune: bool) -> Plan:
    """The plan against the account as SES reports it now (SesError/RelayError as raised)."""
    return make_plan(folder, account.templates(), account.content, prune=prune)


def apply_plan(account: Account, plan: Plan, say: Say) -> list[str]:
    """Make the plan's writes, deletions first (room under the account's template limit); says
    each one done, goes on past a failure, and returns the failures."""
    failures = []
    for step in plan.writes:
        try:
            if step.action == "delete":
                assert step.template_id is not None
                account.delete(step.template_id)
                after = f"#{step.template_id}"
            elif step.action == "update":
                assert step.template_id is not None
                assert step.source is not None
                account.update(step.template_id, step.source)
                after = f"#{step.template_id}, under review"
            else:
                assert step.source is not None
                after = f"#{account.create(step.source)}, under review"
        except RelayError as exc:
            failures.append(f"template {step.name}: {step.action} failed: {_reason(exc)}")
            continue
        say(f"  {_DONE[step.action]:<9}  template {step.name}  ({after})")
    return failures


def _reason(exc: RelayError) -> str:
    text = f"{exc.code}: {exc.message}"
    if isinstance(exc, SesError) and exc.outcome_unknown:
        text += " (SES may have made the change: run the sync again to see)"
    return text


def run_sync(
    account: Account,
    folder: Sequence[TemplateFile],
    say: Say,
    *,
    prune: bool = False,
    dry_run: bool = False,
) -> list[str]:
    """Plan, print, and (unless `dry_run`) apply: the problems, empty when all went well."""
    try:
        plan = read_plan(account, folder, prune=prune)
    except RelayError as exc:
        return [f"cannot read the account's templates: {_reason(exc)}"]
    for step in plan.steps:
        say(str(step))
    if not plan.steps:
        say("  (no templates in the folder or the account)")
    if dry_run:
        say("dry run: no template was changed")
    elif not plan.writes:
        say("templates: no changes")
    else:
        failures = apply_plan(account, plan, say)
        return [*plan.problems, *failures]
    return list(plan.problems)
