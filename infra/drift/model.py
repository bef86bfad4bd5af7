"""The drift report: managed resources whose live state differs from the declared one, and
vendor objects that look like the stack's but that no stack resource manages.

Pure data and formatting; no I/O. Values shown in a report pass through :func:`shown`, which
cuts long values and never prints a value Pulumi marked secret.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
"""The key Pulumi's JSON output uses to mark a secret value (``{SECRET_SIG: …}``)."""
VALUE_LIMIT = 120


@dataclass(frozen=True)
class FieldDrift:
    """One field of a managed resource: what the vendor holds now and what the stack says."""

    field: str
    live: Any
    declared: Any


@dataclass(frozen=True)
class ResourceDrift:
    """A managed resource that ``pulumi up`` would change (``update``, ``create`` when it was
    deleted by hand, ``replace``, ``delete``)."""

    urn: str
    type: str
    name: str
    operation: str
    fields: tuple[FieldDrift, ...] = ()


@dataclass(frozen=True)
class Unmanaged:
    """A vendor object that watches the stack's service (or sits in its folder/project) but
    is not in the stack's state: made by hand, or left behind by another stack."""

    vendor: str  # "uptimerobot" | "sentry" | "grafana"
    kind: str  # "monitor", "maintenance window", "detector", "workflow", "dashboard", "rule group"
    id: str
    name: str
    reason: str  # why it counts as the stack's, e.g. "checks https://api.agenzia.ai/health"


@dataclass
class DriftReport:
    stack: str
    managed: list[ResourceDrift] = field(default_factory=list)
    unmanaged: list[Unmanaged] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.managed and not self.unmanaged

    def exit_code(self) -> int:
        """0 clean, 1 drift (``monitoring drift`` exits 2 on errors before a report exists)."""
        return 0 if self.clean else 1

    def to_json(self) -> str:
        doc = {
            "stack": self.stack,
            "clean": self.clean,
            "managed": [
                {**asdict(r), "fields": [_shown_field(f) for f in r.fields]} for r in self.managed
            ],
            "unmanaged": [asdict(u) for u in self.unmanaged],
        }
        return json.dumps(doc, indent=2, sort_keys=True)

    def to_markdown(self) -> str:
        lines = [f"## Drift report: stack `{self.stack}`", ""]
        if self.clean:
            lines.append("No drift: every managed resource matches the stack, and no unmanaged")
            lines.append("object watches the stack's services.")
            return "\n".join(lines) + "\n"
        lines.append(
            f"{len(self.managed)} managed resource(s) drifted, "
            f"{len(self.unmanaged)} unmanaged object(s) found."
        )
        if self.managed:
            lines += ["", "### Managed resources that differ from the stack", ""]
            lines += ["| resource | change | field | live value | declared value |"]
            lines += ["|---|---|---|---|---|"]
            for r in self.managed:
                rows = r.fields or (FieldDrift("(whole resource)", None, None),)
                for f in rows:
                    lines.append(
                        f"| `{_cell(r.name)}` ({_cell(r.type)}) | {r.operation} | "
                        f"`{_cell(f.field)}` | {_code(f.live)} | {_code(f.declared)} |"
                    )
        if self.unmanaged:
            lines += ["", "### Unmanaged objects (not in the stack's state)", ""]
            lines += [
                "| vendor | kind | id | name | why it is the stack's |",
                "|---|---|---|---|---|",
            ]
            for u in self.unmanaged:
                lines.append(
                    f"| {u.vendor} | {u.kind} | `{_cell(u.id)}` | {_cell(u.name)} | "
                    f"{_cell(u.reason)} |"
                )
        lines += ["", "`pulumi up` restores managed resources; unmanaged objects are yours to "
                  "import (`pulumi import`), delete, or leave."]  # fmt: skip
        return "\n".join(lines) + "\n"


def shown(value: Any) -> Any:
    """A value fit for a report: secrets masked, long text cut to a prefix."""
    if isinstance(value, dict):
        if SECRET_SIG in value:
            return "[secret]"
        return {k: shown(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shown(v) for v in value]
    if isinstance(value, str) and len(value) > VALUE_LIMIT:
        return value[: VALUE_LIMIT - 1] + "…"
    return value


def _shown_field(f: FieldDrift) -> dict[str, Any]:
    return {"field": f.field, "live": shown(f.live), "declared": shown(f.declared)}


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _code(value: Any) -> str:
    if value is None:
        return "(none)"
    text = json.dumps(shown(value), sort_keys=True, default=str)
    if len(text) > VALUE_LIMIT:
        text = text[: VALUE_LIMIT - 1] + "…"
    quoted = _cell(text).replace("`", "'")
    return f"`{quoted}`"
