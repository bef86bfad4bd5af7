"""Sentry replies as the providers read them: typed models of the fields read, checked before
any is read (``rest.expect``). Field names are Sentry's (camelCase); others are allowed."""

from __future__ import annotations

from typing import Any

from pydantic import RootModel

from infra.providers.rest import Reply


class NamedReply(Reply):
    """Any Sentry object the providers create or list: an id (a string in responses) and a
    name."""

    id: int | str
    name: str


class SnubaQueryReply(Reply):
    aggregate: str | None = None
    dataset: str | None = None
    environment: str | None = None
    eventTypes: list[str] | None = None
    query: str | None = None
    timeWindow: int | float | None = None


class QueryObjReply(Reply):
    snubaQuery: SnubaQueryReply | None = None


class DataSourceReply(Reply):
    queryObj: QueryObjReply | None = None


class ConditionGroupReply(Reply):
    logicType: str | None = None
    conditions: list[dict[str, Any]] | None = None


class DetectorReply(NamedReply):
    """getOrganizationDetector's answer: the fields ``from_live`` reads."""

    type: str
    enabled: bool = True
    description: str | None = None
    config: dict[str, Any] | None = None
    dataSources: list[DataSourceReply] | None = None
    conditionGroup: ConditionGroupReply | None = None


class ActionFilterReply(Reply):
    logicType: str | None = None
    conditions: list[dict[str, Any]] | None = None
    actions: list[dict[str, Any]] | None = None


class WorkflowReply(NamedReply):
    """getOrganizationWorkflow's answer."""

    enabled: bool = True
    environment: str | None = None
    config: dict[str, Any] | None = None
    detectorIds: list[int | str] | None = None
    triggers: ActionFilterReply | None = None
    actionFilters: list[ActionFilterReply] | None = None


class DsnReply(Reply):
    public: str | None = None


class KeyReply(NamedReply):
    """getProjectKey's answer."""

    isActive: bool = True
    dsn: DsnReply | None = None


class Listing(RootModel[list[dict[str, Any]]]):
    """A list reply: an array of objects."""
