"""``monitoring diff``'s comparison: what two revisions provision, stack by stack.

Pure: the input is each revision's ``{path: text}`` of the generated folders (read by the CLI
with :mod:`infra.review.revisions`), the output one :class:`~infra.review.model.StackReport`
per stack. Comparing parsed artifacts, not config text, is what makes a comment or a renamed
template no change, and a changed default in ``infra/config`` a change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from infra.review.diff_alerts import compare_alerts, parse_rules
from infra.review.diff_dashboards import compare_dashboards
from infra.review.diff_recordings import compare_recordings
from infra.review.diff_routing import compare_routing
from infra.review.diff_vendors import compare_provisioned
from infra.review.model import SECTIONS, StackReport
from infra.review.snapshot import StackArtifacts, parse_revision

STACK_ORDER = ("production", "staging", "local")
VENDOR_PARTS = "UptimeRobot monitors, Sentry detectors and workflows, Grafana routing and SLOs"


class DiffError(Exception):
    """A request the comparison cannot answer (e.g. a stack neither revision has)."""


def _ordered(stacks: set[str]) -> list[str]:
    known = [s for s in STACK_ORDER if s in stacks]
    return known + sorted(stacks - set(known))


def compare_stack(
    stack: str,
    base: StackArtifacts | None,
    head: StackArtifacts | None,
    base_name: str,
    head_name: str,
) -> StackReport:
    """Every change in ``stack`` from ``base`` to ``head`` (``None``: no artifacts there)."""
    report = StackReport(stack)
    if base is None:
        report.notes.append(f"new stack: {base_name} has no artifacts for it")
    if head is None:
        report.notes.append(f"stack removed: {head_name} has no artifacts for it")
    b, h = base or StackArtifacts(stack), head or StackArtifacts(stack)

    rules_b = parse_rules(b.rule_files, b.alertmanager)
    rules_h = parse_rules(h.rule_files, h.alertmanager)
    report.changes += compare_alerts(rules_b, rules_h)
    report.changes += compare_recordings(rules_b, rules_h)

    whole = base is None or head is None  # a side without the stack compares as empty
    if (b.alertmanager is not None and h.alertmanager is not None) or whole:
        report.changes += compare_routing(b.alertmanager or {}, h.alertmanager or {})
    elif b.alertmanager is not None or h.alertmanager is not None:
        missing = base_name if b.alertmanager is None else head_name
        report.not_compared.append(
            f"routing (alertmanager.yml): {missing} has no alert_rules/{stack}/alertmanager.yml"
        )

    if (b.provisioned is not None and h.provisioned is not None) or whole:
        report.changes += compare_provisioned(b.provisioned or {}, h.provisioned or {})
    elif b.provisioned is None and h.provisioned is None:
        report.notes.append(
            f"{VENDOR_PARTS}: not compared, neither revision has provisioned/{stack}.json"
        )
    elif b.provisioned is None:
        report.not_compared.append(
            f"{VENDOR_PARTS}: {base_name} has no provisioned/{stack}.json (it was made "
            "before `monitoring render` wrote provisioned/)"
        )
    else:
        report.not_compared.append(
            f"{VENDOR_PARTS}: {head_name} has no provisioned/{stack}.json; run "
            "`monitoring render` and commit it"
        )

    report.changes += compare_dashboards(b.dashboards, h.dashboards)
    order = {name: i for i, name in enumerate(SECTIONS)}
    report.changes.sort(key=lambda c: order.get(c.section, len(order)))  # stable within one
    return report


def compare(
    base_files: Mapping[str, str],
    head_files: Mapping[str, str],
    stacks: Sequence[str] | None = None,
    base_name: str = "base",
    head_name: str = "head",
) -> list[StackReport]:
    """One report per stack: the requested ones, or every stack either revision has."""
    base, head = parse_revision(base_files), parse_revision(head_files)
    present = set(base) | set(head)
    if stacks:
        unknown = [s for s in stacks if s not in present]
        if unknown:
            have = ", ".join(_ordered(present)) or "none"
            raise DiffError(
                f"no artifacts for stack {unknown[0]!r} at {base_name} or {head_name} "
                f"(stacks with artifacts: {have})"
            )
        chosen = list(dict.fromkeys(stacks))
    else:
        chosen = _ordered(present)
    return [compare_stack(s, base.get(s), head.get(s), base_name, head_name) for s in chosen]
