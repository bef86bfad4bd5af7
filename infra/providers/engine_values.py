"""Values as the Pulumi engine hands them to a dynamic provider, made safe to send to an API.

Two facts that only a run on the real engine shows (SDK mocks hide both):

- During ``preview``, an input computed from a resource that does not exist yet (a Sentry
  workflow's detector ids, a monitor's maintenance-window ids) reaches ``check`` and ``diff``
  as an unknown, in place of the value or of the whole object the value is part of: a
  ``pulumi.output.Unknown`` instance (``check`` deserializes with ``keep_unknowns``) or the
  sentinel string :data:`UNKNOWN` (elsewhere). ``check`` must accept it (the real value is
  checked at ``up``), and ``diff`` must report the field as changing.
- Numbers travel through the engine as protobuf doubles, so ``300`` comes back as ``300.0``
  after a round trip through the state. APIs that type a field as an integer reject the float
  (Sentry's ``timeWindow``). :func:`restore_integers` turns every whole float back into an int;
  the shared HTTP call applies it to every JSON body, so no payload of either vendor can carry
  one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from pulumi.output import Unknown

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
"""The sentinel ``pulumi.dynamic`` passes for a value not known until ``up``."""


def is_unknown(value: Any) -> bool:
    """True when ``value`` is, or holds anywhere inside it, a value unknown during preview."""
    if isinstance(value, Unknown):
        return True
    if isinstance(value, str):
        return value == UNKNOWN
    if isinstance(value, Mapping):
        return any(is_unknown(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(is_unknown(v) for v in value)
    return False


def restore_integers(value: Any) -> Any:
    """``value`` with every whole, finite float (``300.0``) turned back into an int, at any
    depth; bools, other numbers and strings are left as they are."""
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {k: restore_integers(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [restore_integers(v) for v in value]
    return value
