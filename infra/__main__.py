"""Entry point of `pulumi up -s <stack>` (Pulumi.yaml: main)."""

from infra.program import run

run()
