"""Drift detection: what the live vendor APIs hold against what a stack declares.

``model`` is the report (pure); ``engine`` reads the refresh-preview of the real Pulumi engine;
the ``*_inventory`` modules list vendor objects a stack does not manage; ``cli`` wires them
into ``monitoring drift``.
"""
