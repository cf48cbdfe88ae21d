"""What changed between two prompt versions: a unified diff of each template (difflib).

A prompt version is two jinja2 templates (system and user); the diff keeps
them apart so a reviewer sees at once whether the rules or the data layout
changed. The output is the familiar ``---``/``+++``/``@@`` format that
code review tools and ``patch`` read.
"""

from __future__ import annotations

import difflib

from pydantic import BaseModel, ConfigDict, Field

from agent.llm_drafter import PromptVersion


class TemplateDiff(BaseModel):
    model_config = ConfigDict(frozen=True)

    unified: str = Field(description="unified diff, empty when the template is unchanged")
    added: int
    removed: int


class PromptDiff(BaseModel):
    """The diff from ``base`` to ``head``, template by template."""

    model_config = ConfigDict(frozen=True)

    base: str
    head: str
    system: TemplateDiff
    user: TemplateDiff

    @property
    def identical(self) -> bool:
        return not (self.system.unified or self.user.unified)


def _diff(*, old: str, new: str, old_label: str, new_label: str, context: int) -> TemplateDiff:
    lines = list(difflib.unified_diff(old.splitlines(), new.splitlines(), fromfile=old_label, tofile=new_label,
                                      n=context, lineterm=""))
    body = lines[2:]  # the ---/+++ header is not a change
    return TemplateDiff(unified="\n".join(lines),
                        added=sum(1 for line in body if line.startswith("+")),
                        removed=sum(1 for line in body if line.startswith("-")))


def diff_prompts(*, base: PromptVersion, head: PromptVersion, context: int = 3) -> PromptDiff:
    """The unified diff of the system and user templates from ``base`` to ``head``."""
    if context < 0:
        raise ValueError(f"context must be 0 or more lines, not {context}")
    return PromptDiff(
        base=base.version, head=head.version,
        system=_diff(old=base.system, new=head.system, old_label=f"{base.version}/system.j2",
                     new_label=f"{head.version}/system.j2", context=context),
        user=_diff(old=base.user, new=head.user, old_label=f"{base.version}/user.j2",
                   new_label=f"{head.version}/user.j2", context=context),
    )
