"""The local stack: real Prometheus and Alertmanager on 127.0.0.1, a demo exporter, a sink.

``monitoring local up`` renders the ``local`` stack with the same code as every other stack,
starts the four processes on free loopback ports and records their PIDs in ``.local-stack/``;
``monitoring local down`` stops exactly those PIDs.
"""
