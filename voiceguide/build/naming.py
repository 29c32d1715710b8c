"""The default names of session files, the same whoever asks (the command line, the web page)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from voiceguide.plans.loader import DEFAULT_PLAN

if TYPE_CHECKING:  # (the command line imports this as it starts: only what it needs then)
    from voiceguide.plans.customize import Customized


def plan_name(plan: Path | None) -> str:
    return Path(plan.name if plan else DEFAULT_PLAN).stem


def session_name(plan: Path | None, person: str | None, customized: Customized) -> str:
    """The default file name of a session, without extension, from what the session is made of
    (*person* is the profile's name for it): the plan, the person, the language when it is not the
    plan's own, and the week. However those were chosen (plan, profile, --set, --language, --week),
    the same session gets the same name."""
    session = customized.plan
    name = plan_name(plan) + (f"-{person}" if person else "")
    name += f"-{session.language}" if session.language != customized.plan_language else ""
    return name + (f"-week-{session.week:02d}" if session.week else "")
