"""Typed stack configuration and its loaders."""

from infra.config.loader import ConfigError, list_stacks, load_from_pulumi, load_stack, project_root
from infra.config.models import ServiceConfig, StackConfig
from infra.config.types import Severity

__all__ = [
    "ConfigError",
    "ServiceConfig",
    "Severity",
    "StackConfig",
    "list_stacks",
    "load_from_pulumi",
    "load_stack",
    "project_root",
]
