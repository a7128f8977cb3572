"""Who changed the champion, when and why: an append-only record in the
registry version's tags.

Each event is a numbered group of tags on the version that became champion:
approval.<n>.action (promote or rollback), .by, .at (UTC), .reason and
.replaced (the champion before). Numbered, so a version promoted, rolled away
from and promoted again keeps every event; one tag per fact, so the MLflow UI
shows them as they are.
"""

import getpass
import subprocess
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from mlflow import MlflowClient

from .environment import ApprovalSettings
from .errors import ProjectError

TAG_PREFIX = "approval."
GATE = "gate"  # who promotes automatically, in the register stage
MAX_REASON_CHARS = 1000  # well inside MLflow's limit on a tag value


@dataclass(frozen=True)
class Approval:
    action: str  # "promote" or "rollback"
    by: str
    at: str  # UTC, ISO 8601
    reason: str
    replaced: str  # the champion before, or "none"

    def tags(self, number: int) -> dict[str, str]:
        return {f"{TAG_PREFIX}{number}.{key}": v for key, v in asdict(self).items()}


def require_reason(reason: str | None) -> str:
    """The reason on one line; none, or a blank one, is refused."""
    text = " ".join((reason or "").split())
    if not text:
        raise ProjectError(
            "--reason is required: say why the champion changes "
            "(it is recorded on the version with who and when)"
        )
    if len(text) > MAX_REASON_CHARS:
        raise ProjectError(
            f"--reason is {len(text)} characters long; "
            f"keep it under {MAX_REASON_CHARS} and link to the details"
        )
    return text


def current_user() -> str:
    """The GitHub user in Actions, else git's user.name, else the OS user."""
    actor = ApprovalSettings.read().github_actor
    if actor:
        return actor
    try:
        name = subprocess.run(
            ["git", "config", "user.name"], capture_output=True, text=True
        ).stdout.strip()
    except OSError:  # git is not installed
        name = ""
    if name:
        return name
    try:
        return getpass.getuser()
    except OSError:  # no user name in a bare container
        return "unknown"


def record(
    client: MlflowClient,
    name: str,
    version: str,
    action: str,
    reason: str,
    by: str,
    replaced: str | None,
) -> Approval:
    """Append one event to the tags of `version`, the new champion."""
    approval = Approval(
        action=action,
        by=by,
        at=datetime.now(UTC).isoformat(timespec="seconds"),
        reason=reason,
        replaced=replaced or "none",
    )
    number = len(history(client.get_model_version(name, version).tags)) + 1
    for key, value in approval.tags(number).items():
        client.set_model_version_tag(name, version, key, value)
    return approval


def history(tags: dict[str, str]) -> list[dict[str, str]]:
    """The events recorded in a version's tags, oldest first."""
    events: dict[int, dict[str, str]] = {}
    for key, value in tags.items():
        number, _, field = key.removeprefix(TAG_PREFIX).partition(".")
        if key.startswith(TAG_PREFIX) and number.isdigit() and field:
            events.setdefault(int(number), {})[field] = value
    return [events[number] for number in sorted(events)]
