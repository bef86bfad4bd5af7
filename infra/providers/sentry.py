"""Pulumi dynamic providers for Sentry: metric detectors, workflows and project keys (DSN).

Sentry's metric alert-rule routes are deprecated (DESIGN.md), and ``pulumiverse-sentry`` only
wraps those, so these providers speak Sentry's API directly with httpx. Every call follows an
operation of Sentry's published description (``vendor-specs/sentry/openapi-derefed.json``),
named by its ``operationId`` at the call. Paths here are relative to ``api_url``
(``https://sentry.io/api/0``), which holds the description's ``/api/0`` prefix.

Why the code looks the way it does:

- Pulumi pickles providers (dill) into the state, so they hold no client, token or open
  resource: each method builds its own ``httpx.Client`` from the resource properties.
- The auth token comes from the ``auth_token`` property (a secret input, kept secret in state by
  ``additional_secret_outputs``) or the ``SENTRY_AUTH_TOKEN`` environment variable. It goes into
  the ``Authorization`` header only and is redacted from every error message.
- ``read`` asks Sentry for the live object, so ``pulumi refresh`` and ``pulumi preview`` show
  drift; a 404 means the object is gone and Pulumi will recreate it.
- ``create`` never duplicates: it adopts an object with the same name, and a create whose
  answer was lost is looked for, never posted again (``rest.RestProvider.create_once``). Every
  reply is checked against a typed model of the fields read here before it is read.
- Lists are cursor-paged through the ``Link`` header; only its ``cursor`` is followed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import quote

import httpx
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    UpdateResult,
)

from infra.providers.engine_values import is_unknown
from infra.providers.rest import Connection, ProviderError, RestProvider, expect, parse
from infra.providers.sentry_replies import (
    DetectorReply,
    KeyReply,
    Listing,
    NamedReply,
    WorkflowReply,
)

TOKEN_ENV = "SENTRY_AUTH_TOKEN"
API_URL_ENV = "SENTRY_API_URL"
"""Overrides every resource's ``api_url`` (tests point it at the local contract server)."""

MAX_PAGES = 50
"""Sentry lists are cursor-paged (``Link`` header); stop following after this many pages."""

Spec = dict[str, Any]


class SentryProviderError(ProviderError):
    """A Sentry call failed. The message names the operation and never holds the token."""


# --------------------------------------------------------------------------- connection


def _connection(props: Mapping[str, Any]) -> Connection:
    token = str(props.get("auth_token") or os.environ.get(TOKEN_ENV) or "")
    if not token or is_unknown(token):
        raise SentryProviderError(
            "no Sentry auth token: run `pulumi config set --secret sentryAuthToken <token>` "
            f"for this stack, or export {TOKEN_ENV}"
        )
    api_url = os.environ.get(API_URL_ENV) or str(props.get("api_url") or "")
    if not api_url.startswith(("http://", "https://")):
        raise SentryProviderError(f"api_url must be an http(s) URL (got {api_url[:80]!r})")
    return Connection(api_url.rstrip("/"), token)


def _seg(value: object) -> str:
    """One URL path segment (slugs and ids come from state, so quote them anyway)."""
    return quote(str(value), safe="")


_NEXT_RE = re.compile(r'<[^>]*>;\s*rel="next";\s*results="true";\s*cursor="([^"]+)"')


def next_cursor(response: httpx.Response) -> str | None:
    """The ``cursor`` of the ``rel="next"`` link when it has results. Only the cursor is used:
    following the link itself would send the token to whatever host the link names."""
    match = _NEXT_RE.search(response.headers.get("Link", ""))
    return match.group(1) if match else None


# --------------------------------------------------------------------------- base provider


class SentryProvider(RestProvider):
    """CRUD shared by the Sentry resources; subclasses say where an object lives and how its
    desired spec compares with what Sentry returns."""

    vendor = "Sentry"
    error = SentryProviderError
    noun: ClassVar[str] = "object"
    reply: ClassVar[type[NamedReply]] = NamedReply
    name_limit: ClassVar[int] = 200
    replace_keys: ClassVar[tuple[str, ...]] = ("api_url", "organization", "project")

    # --- hooks -----------------------------------------------------------------------

    def collection_path(self, props: Mapping[str, Any]) -> str:
        raise NotImplementedError

    def create_path(self, props: Mapping[str, Any]) -> str:
        return self.collection_path(props)

    def item_path(self, props: Mapping[str, Any], id_: str) -> str:
        raise NotImplementedError

    def list_params(self, props: Mapping[str, Any], name: str) -> dict[str, str]:
        return {}

    def create_body(self, spec: Spec) -> Spec:
        return spec

    def update_body(self, spec: Spec) -> Spec:
        return spec

    def comparable(self, spec: Mapping[str, Any]) -> Spec:
        """The part of a spec Sentry echoes back, normalised; diff and drift compare this."""
        raise NotImplementedError

    def from_live(self, live: Mapping[str, Any]) -> Spec:
        """A Sentry response turned back into spec shape (what ``read`` stores)."""
        raise NotImplementedError

    def extra_outputs(self, live: Mapping[str, Any]) -> dict[str, Any]:
        return {}

    # --- Pulumi provider protocol ----------------------------------------------------

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        # During preview a value computed from a resource that does not exist yet is unknown
        # (a workflow's spec waits for its detectors' ids): it is checked again at `up`.
        failures = [
            CheckFailure(key, f"{key} is required")
            for key in ("organization", "api_url")
            if not is_unknown(news.get(key))
            and (not isinstance(news.get(key), str) or not news.get(key))
        ]
        spec = news.get("spec")
        if is_unknown(spec) and not isinstance(spec, Mapping):
            return CheckResult(news, failures)
        if not isinstance(spec, Mapping):
            failures.append(CheckFailure("spec", "spec must be an object"))
        else:
            name = spec.get("name")
            if not is_unknown(name) and (
                not isinstance(name, str) or not 0 < len(name) <= self.name_limit
            ):
                failures.append(
                    CheckFailure("spec", f"name must be 1-{self.name_limit} characters")
                )
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [
            k for k in self.replace_keys if is_unknown(news.get(k)) or olds.get(k) != news.get(k)
        ]
        spec = news.get("spec")
        changed = is_unknown(spec) or self.comparable(olds.get("spec") or {}) != self.comparable(
            spec or {}
        )
        changes = [*replaces, *(["spec"] if changed else [])]
        return DiffResult(
            changes=bool(changes),
            replaces=replaces,
            stables=[k for k in self.replace_keys if k not in replaces],
            delete_before_replace=False,
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        conn = _connection(props)
        spec: Spec = props["spec"]
        what = f"{self.noun} {str(spec.get('name'))[:80]!r}"
        with self.errors(conn, f"creating {what}"), conn.client(self.policy) as client:

            def find() -> dict[str, Any] | None:
                return self._find(client, props, spec["name"])

            body = self.create_body(spec)
            live = self._live(self.create_once(client, self.create_path(props), body, find, what))
            if self.comparable(self.from_live(live)) != self.comparable(spec):
                live = self._put(client, props, str(live["id"]), spec)
        return CreateResult(str(live["id"]), self._outputs(props, spec, live))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        conn = _connection(props)
        with self.errors(conn, f"reading {self.noun} {id_}"), conn.client(self.policy) as client:
            reply = self.get_or_none(client, self.item_path(props, id_))
            if reply is None:
                return ReadResult(None, {})  # gone: Pulumi drops it and recreates on up
            live = self._live(reply)
            return ReadResult(id_, self._outputs(props, self.from_live(live), live))

    def update(self, id_: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        conn = _connection(news)
        spec: Spec = news["spec"]
        with self.errors(conn, f"updating {self.noun} {id_}"), conn.client(self.policy) as client:
            live = self._put(client, news, id_, spec)
        return UpdateResult(self._outputs(news, spec, live))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        conn = _connection(props)
        with self.errors(conn, f"deleting {self.noun} {id_}"), conn.client(self.policy) as client:
            self.delete_path(client, self.item_path(props, id_))

    # --- helpers ---------------------------------------------------------------------

    def _live(self, reply: Any) -> dict[str, Any]:
        """A reply checked as this provider's object, as plain data."""
        return expect(self.reply, reply, f"a Sentry {self.noun}").model_dump()

    def _find(
        self, client: httpx.Client, props: Mapping[str, Any], name: str
    ) -> dict[str, Any] | None:
        """The object named ``name``, if Sentry already has one (adoption, idempotent create)."""
        params: dict[str, str] = self.list_params(props, name)
        path = self.collection_path(props)
        for _ in range(MAX_PAGES):
            response = self.send(client, "GET", path, params=params)
            items = expect(Listing, parse(response), f"a list of Sentry {self.noun}s").root
            for item in items:
                if item.get("name") == name:
                    return self._live(item)
            cursor = next_cursor(response)
            if cursor is None:
                break
            params = {**self.list_params(props, name), "cursor": cursor}
        return None

    def _put(
        self, client: httpx.Client, props: Mapping[str, Any], id_: str, spec: Spec
    ) -> dict[str, Any]:
        path, what = self.item_path(props, id_), f"{self.noun} {id_}"
        reply = self.change(client, "PUT", path, self.update_body(spec), what)
        return self._live(reply)

    def _outputs(
        self, props: Mapping[str, Any], spec: Spec, live: Mapping[str, Any]
    ) -> dict[str, Any]:
        outs = {k: v for k, v in props.items() if k != "__provider"}
        outs.update(spec=spec, sentry_id=str(live.get("id", "")), **self.extra_outputs(live))
        return outs


# --------------------------------------------------------------------------- detectors


def _conditions(group: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    return [
        {k: c.get(k) for k in ("type", "comparison", "conditionResult")}
        for c in (group or {}).get("conditions") or []
    ]


class DetectorProvider(SentryProvider):
    """A metric monitor (``type: metric_issue``) of one project."""

    noun = "detector"
    reply = DetectorReply
    name_limit = 200

    def collection_path(self, props: Mapping[str, Any]) -> str:
        return f"organizations/{_seg(props['organization'])}/detectors/"

    def create_path(self, props: Mapping[str, Any]) -> str:
        # createOrganizationProjectDetector: POST .../projects/{project}/detectors/
        return (
            f"organizations/{_seg(props['organization'])}/projects/"
            f"{_seg(props['project'])}/detectors/"
        )

    def item_path(self, props: Mapping[str, Any], id_: str) -> str:
        # getOrganizationDetector / updateOrganizationDetector / deleteOrganizationDetector
        return f"organizations/{_seg(props['organization'])}/detectors/{_seg(id_)}/"

    def list_params(self, props: Mapping[str, Any], name: str) -> dict[str, str]:
        # listOrganizationDetectors: filter server-side by project and name; exact match here.
        return {"project": str(props["project"]), "query": f'name:"{name}"'}

    def comparable(self, spec: Mapping[str, Any]) -> Spec:
        sources = [
            {
                "aggregate": s.get("aggregate"),
                "dataset": s.get("dataset"),
                "environment": s.get("environment"),
                "eventTypes": sorted(s.get("eventTypes") or []),
                "query": s.get("query") or "",
                "timeWindow": s.get("timeWindow"),
            }
            for s in spec.get("dataSources") or []
        ]
        group = spec.get("conditionGroup") or {}
        return {
            "name": spec.get("name"),
            "type": spec.get("type"),
            "enabled": spec.get("enabled", True),
            "description": spec.get("description"),
            "detectionType": (spec.get("config") or {}).get("detectionType"),
            "dataSources": sources,
            "logicType": group.get("logicType"),
            "conditions": _conditions(group),
        }

    def from_live(self, live: Mapping[str, Any]) -> Spec:
        # Responses nest the query under dataSources[].queryObj.snubaQuery.
        sources = []
        for source in live.get("dataSources") or []:
            query = ((source.get("queryObj") or {}).get("snubaQuery")) or {}
            sources.append(
                {
                    k: query.get(k)
                    for k in ("aggregate", "dataset", "environment", "eventTypes", "query")
                }
                | {"timeWindow": query.get("timeWindow")}
            )
        group = live.get("conditionGroup") or {}
        return {
            "name": live.get("name"),
            "type": live.get("type"),
            "enabled": live.get("enabled", True),
            "description": live.get("description"),
            "config": {"detectionType": (live.get("config") or {}).get("detectionType")},
            "dataSources": sources,
            "conditionGroup": {
                "logicType": group.get("logicType"),
                "conditions": _conditions(group),
            },
        }


# --------------------------------------------------------------------------- workflows


def _actions(actions: Any) -> list[dict[str, Any]]:
    out = []
    for action in actions or []:
        config = action.get("config") or {}
        out.append(
            {
                "type": action.get("type"),
                "integrationId": (
                    None if action.get("integrationId") is None else str(action["integrationId"])
                ),
                "config": {
                    k: config.get(k) for k in ("targetType", "targetIdentifier", "targetDisplay")
                },
                "data": dict(action.get("data") or {}),
            }
        )
    return out


class WorkflowProvider(SentryProvider):
    """An alert (workflow): which detectors' issues notify which actions."""

    noun = "workflow"
    reply = WorkflowReply
    name_limit = 256
    replace_keys = ("api_url", "organization")

    def collection_path(self, props: Mapping[str, Any]) -> str:
        # listOrganizationWorkflows (GET) and createOrganizationWorkflow (POST)
        return f"organizations/{_seg(props['organization'])}/workflows/"

    def item_path(self, props: Mapping[str, Any], id_: str) -> str:
        # getOrganizationWorkflow / updateOrganizationWorkflow / deleteOrganizationWorkflow
        return f"organizations/{_seg(props['organization'])}/workflows/{_seg(id_)}/"

    def list_params(self, props: Mapping[str, Any], name: str) -> dict[str, str]:
        return {"query": name}

    def create_body(self, spec: Spec) -> Spec:
        # The description types detectorIds as integers in requests (strings in responses).
        return {**spec, "detectorIds": [int(i) for i in spec.get("detectorIds") or []]}

    def update_body(self, spec: Spec) -> Spec:
        return self.create_body(spec)

    def comparable(self, spec: Mapping[str, Any]) -> Spec:
        triggers = spec.get("triggers") or {}
        return {
            "name": spec.get("name"),
            "enabled": spec.get("enabled", True),
            "environment": spec.get("environment"),
            "config": dict(spec.get("config") or {}),
            "detectorIds": sorted(str(i) for i in spec.get("detectorIds") or []),
            "triggers": {
                "logicType": triggers.get("logicType"),
                "conditions": _conditions(triggers),
                # Kept (always [] here) so that a refreshed workflow reads back in the shape
                # of its spec and `preview --diff` shows no phantom change.
                "actions": _actions(triggers.get("actions")),
            },
            "actionFilters": [
                {
                    "logicType": f.get("logicType"),
                    "conditions": _conditions(f),
                    "actions": _actions(f.get("actions")),
                }
                for f in spec.get("actionFilters") or []
            ],
        }

    def from_live(self, live: Mapping[str, Any]) -> Spec:
        # The response already has the request's shape plus ids; comparable() drops the ids.
        return self.comparable(live)


# --------------------------------------------------------------------------- project keys


class ProjectKeyProvider(SentryProvider):
    """A project client key; its public DSN is what the SDK's ``SENTRY_DSN`` needs."""

    noun = "project key"
    reply = KeyReply
    name_limit = 64

    def collection_path(self, props: Mapping[str, Any]) -> str:
        # listProjectKeys (GET) and createProjectKey (POST)
        return f"projects/{_seg(props['organization'])}/{_seg(props['project'])}/keys/"

    def item_path(self, props: Mapping[str, Any], id_: str) -> str:
        # getProjectKey / updateProjectKey / deleteProjectKey
        return f"{self.collection_path(props)}{_seg(id_)}/"

    def create_body(self, spec: Spec) -> Spec:
        return {"name": spec["name"]}  # createProjectKey takes no isActive

    def comparable(self, spec: Mapping[str, Any]) -> Spec:
        return {"name": spec.get("name"), "isActive": spec.get("isActive", True)}

    def from_live(self, live: Mapping[str, Any]) -> Spec:
        return self.comparable(live)

    def extra_outputs(self, live: Mapping[str, Any]) -> dict[str, Any]:
        return {"dsn": str((live.get("dsn") or {}).get("public") or "")}
