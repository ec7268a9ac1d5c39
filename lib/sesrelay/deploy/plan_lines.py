"""One line of a deploy plan: an action (create / update / delete / no change / ignored), what it
concerns and a detail, printed as `  update     memorySize  (256 MB)`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Action = Literal["create", "update", "delete", "no change", "ignored"]
#: the actions that change something (`ignored` and `no change` only report)
CHANGES: tuple[Action, ...] = ("create", "update", "delete")


@dataclass(frozen=True)
class Line:
    action: Action
    subject: str
    detail: str = ""

    def __str__(self) -> str:
        return f"  {self.action:<9}  {self.subject}" + (f"  ({self.detail})" if self.detail else "")
