// Wrapper module that builds the Pulumi CLI and its Python language host from the Go module
// proxy (no prebuilt binary can be downloaded here). Used by scripts/build-engine.
module agenzia-monitoring/pulumi-engine

go 1.26

require (
	github.com/pulumi/pulumi/pkg/v3 v3.274.1
	github.com/pulumi/pulumi/sdk/v3 v3.274.1
)

// The one replace directive pulumi/pkg v3.274.1 carries in its own go.mod.
replace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e

tool github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
