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
- ``create`` first looks for an object with the same name and adopts it, and also looks again
  when a create request fails without a clear answer (connection reset, 5xx): Sentry may have
  stored the object before the failure, and a second POST would duplicate it.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import quote

import httpx
import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)

from infra.providers.engine_values import is_unknown
from infra.providers.http import ApiError, RetryPolicy, bearer_client, redact, request

TOKEN_ENV = "SENTRY_AUTH_TOKEN"
API_URL_ENV = "SENTRY_API_URL"
"""Overrides every resource's ``api_url`` (tests point it at the local contract server)."""

MAX_PAGES = 50
"""Sentry lists are cursor-paged (``Link`` header); stop following after this many pages."""

Sleep = Callable[[float], None]
Spec = dict[str, Any]


class SentryProviderError(Exception):
    """A Sentry call failed. The message names the operation and never holds the token."""


# --------------------------------------------------------------------------- connection


@dataclass(frozen=True)
class _Connection:
    api_url: str
    token: str

    def client(self, policy: RetryPolicy) -> httpx.Client:
        return bearer_client(self.api_url, self.token, policy)


def _connection(props: Mapping[str, Any]) -> _Connection:
    token = str(props.get("auth_token") or os.environ.get(TOKEN_ENV) or "")
    if not token:
        raise SentryProviderError(
            "no Sentry auth token: run `pulumi config set --secret sentryAuthToken <token>` "
            f"for this stack, or export {TOKEN_ENV}"
        )
    api_url = os.environ.get(API_URL_ENV) or str(props.get("api_url") or "")
    if not api_url.startswith(("http://", "https://")):
        raise SentryProviderError(f"api_url must be an http(s) URL (got {api_url!r})")
    return _Connection(api_url.rstrip("/"), token)


def _seg(value: object) -> str:
    """One URL path segment (slugs and ids come from state, so quote them anyway)."""
    return quote(str(value), safe="")


_NEXT_RE = re.compile(r'<([^>]+)>;\s*rel="next";\s*results="true"')


def _next_link(response: httpx.Response) -> str | None:
    match = _NEXT_RE.search(response.headers.get("Link", ""))
    return match.group(1) if match else None


# --------------------------------------------------------------------------- base provider


class SentryProvider(ResourceProvider):
    """CRUD shared by the Sentry resources; subclasses say where an object lives and how its
    desired spec compares with what Sentry returns."""

    noun: ClassVar[str] = "object"
    name_limit: ClassVar[int] = 200
    replace_keys: ClassVar[tuple[str, ...]] = ("api_url", "organization", "project")

    def __init__(self, policy: RetryPolicy | None = None, sleep: Sleep = time.sleep) -> None:
        super().__init__()
        self.policy = policy or RetryPolicy()
        self.sleep = sleep

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
        with (
            self._errors(conn, f"creating {self.noun} {spec.get('name')!r}"),
            conn.client(self.policy) as client,
        ):
            live = self._find(client, props, spec["name"]) or self._post_or_find(
                client, props, spec
            )
            if self.comparable(self.from_live(live)) != self.comparable(spec):
                live = self._put(client, props, str(live["id"]), spec)
        return CreateResult(str(live["id"]), self._outputs(props, spec, live))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        conn = _connection(props)
        with self._errors(conn, f"reading {self.noun} {id_}"), conn.client(self.policy) as client:
            try:
                response = self._call(client, "GET", self.item_path(props, id_))
            except ApiError as exc:
                if exc.status == 404:
                    return ReadResult(None, {})  # gone: Pulumi drops it and recreates on up
                raise
        live = response.json()
        return ReadResult(id_, self._outputs(props, self.from_live(live), live))

    def update(self, id_: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        conn = _connection(news)
        spec: Spec = news["spec"]
        with self._errors(conn, f"updating {self.noun} {id_}"), conn.client(self.policy) as client:
            live = self._put(client, news, id_, spec)
        return UpdateResult(self._outputs(news, spec, live))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        conn = _connection(props)
        with self._errors(conn, f"deleting {self.noun} {id_}"), conn.client(self.policy) as client:
            try:
                self._call(client, "DELETE", self.item_path(props, id_))
            except ApiError as exc:
                if exc.status != 404:  # already gone is what delete wants
                    raise

    # --- helpers ---------------------------------------------------------------------

    def _call(self, client: httpx.Client, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return request(client, method, url, policy=self.policy, sleep=self.sleep, **kwargs)

    def _find(
        self, client: httpx.Client, props: Mapping[str, Any], name: str
    ) -> dict[str, Any] | None:
        """The object named ``name``, if Sentry already has one (adoption, idempotent create)."""
        url: str | None = self.collection_path(props)
        params: dict[str, str] | None = self.list_params(props, name)
        for _ in range(MAX_PAGES):
            if url is None:
                break
            response = self._call(client, "GET", url, params=params)
            for item in response.json():
                if isinstance(item, dict) and item.get("name") == name:
                    return item
            url, params = _next_link(response), None  # the next link carries the query
        return None

    def _post_or_find(
        self, client: httpx.Client, props: Mapping[str, Any], spec: Spec
    ) -> dict[str, Any]:
        try:
            response = self._call(
                client, "POST", self.create_path(props), json=self.create_body(spec)
            )
        except ApiError as exc:
            if exc.status is not None and exc.status < 500 and exc.status != 429:
                raise  # Sentry answered: the object was not created
            return self._found_after_failure(client, props, spec, exc)
        except httpx.TransportError as exc:
            return self._found_after_failure(client, props, spec, exc)
        result: dict[str, Any] = response.json()
        return result

    def _found_after_failure(
        self, client: httpx.Client, props: Mapping[str, Any], spec: Spec, exc: Exception
    ) -> dict[str, Any]:
        # The create may have been stored before the connection broke: adopt it if so.
        found = self._find(client, props, spec["name"])
        if found is None:
            raise exc
        return found

    def _put(
        self, client: httpx.Client, props: Mapping[str, Any], id_: str, spec: Spec
    ) -> dict[str, Any]:
        try:
            response = self._call(
                client, "PUT", self.item_path(props, id_), json=self.update_body(spec)
            )
        except ApiError as exc:
            if exc.status == 404:
                raise SentryProviderError(
                    f"{self.noun} {id_} no longer exists in Sentry; run `pulumi refresh` so "
                    "that the next `pulumi up` creates it again"
                ) from None
            raise
        result: dict[str, Any] = response.json()
        return result

    def _outputs(
        self, props: Mapping[str, Any], spec: Spec, live: Mapping[str, Any]
    ) -> dict[str, Any]:
        outs = {k: v for k, v in props.items() if k != "__provider"}
        outs.update(spec=spec, sentry_id=str(live.get("id", "")), **self.extra_outputs(live))
        return outs

    @contextmanager
    def _errors(self, conn: _Connection, doing: str) -> Iterator[None]:
        """Turn client errors into one clear message, with the token redacted."""
        try:
            yield
        except SentryProviderError:
            raise
        except ApiError as exc:
            detail = redact(exc.vendor_message or str(exc), conn.token)
            status = f"HTTP {exc.status}" if exc.status is not None else "no answer"
            raise SentryProviderError(f"Sentry: {doing} failed ({status}): {detail}") from None
        except httpx.HTTPError as exc:
            detail = redact(str(exc), conn.token)
            raise SentryProviderError(
                f"Sentry: {doing} failed ({type(exc).__name__}): {detail}"
            ) from None


# --------------------------------------------------------------------------- detectors


def _conditions(group: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    return [
        {k: c.get(k) for k in ("type", "comparison", "conditionResult")}
        for c in (group or {}).get("conditions") or []
    ]


class DetectorProvider(SentryProvider):
    """A metric monitor (``type: metric_issue``) of one project."""

    noun = "detector"
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


# --------------------------------------------------------------------------- resources


@dataclass(frozen=True)
class SentryTarget:
    """Where the resources live; ``auth_token`` is a secret Output or ``None`` (then the
    provider reads ``SENTRY_AUTH_TOKEN``)."""

    api_url: str
    organization: str
    project: str
    auth_token: pulumi.Input[str] | None


def _props(target: SentryTarget, spec: pulumi.Input[Spec], **extra: Any) -> dict[str, Any]:
    return {
        "api_url": target.api_url,
        "organization": target.organization,
        "project": target.project,
        "auth_token": target.auth_token,
        "spec": spec,
        "sentry_id": None,
        **extra,
    }


def _secret_opts(
    opts: pulumi.ResourceOptions | None, *secret_outputs: str
) -> pulumi.ResourceOptions:
    # Dynamic providers return plain values; without this the token (needed again by
    # read/update/delete) and the DSN would sit in the state unencrypted.
    mine = pulumi.ResourceOptions(additional_secret_outputs=["auth_token", *secret_outputs])
    return pulumi.ResourceOptions.merge(opts, mine)


class Detector(Resource, module="sentry", name="Detector"):
    """A Sentry metric detector (monitor)."""

    sentry_id: pulumi.Output[str]
    spec: pulumi.Output[Spec]

    def __init__(
        self,
        name: str,
        target: SentryTarget,
        spec: pulumi.Input[Spec],
        opts: pulumi.ResourceOptions | None = None,
        provider: DetectorProvider | None = None,
    ) -> None:
        super().__init__(
            provider or DetectorProvider(), name, _props(target, spec), _secret_opts(opts)
        )


class Workflow(Resource, module="sentry", name="Workflow"):
    """A Sentry alert (workflow) connecting detectors to notification actions."""

    sentry_id: pulumi.Output[str]
    spec: pulumi.Output[Spec]

    def __init__(
        self,
        name: str,
        target: SentryTarget,
        spec: pulumi.Input[Spec],
        opts: pulumi.ResourceOptions | None = None,
        provider: WorkflowProvider | None = None,
    ) -> None:
        super().__init__(
            provider or WorkflowProvider(), name, _props(target, spec), _secret_opts(opts)
        )


class ProjectKey(Resource, module="sentry", name="ProjectKey"):
    """A Sentry project client key; ``dsn`` is a secret output."""

    sentry_id: pulumi.Output[str]
    dsn: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        target: SentryTarget,
        key_name: str,
        opts: pulumi.ResourceOptions | None = None,
        provider: ProjectKeyProvider | None = None,
    ) -> None:
        super().__init__(
            provider or ProjectKeyProvider(),
            name,
            _props(target, {"name": key_name, "isActive": True}, dsn=None),
            _secret_opts(opts, "dsn"),
        )
