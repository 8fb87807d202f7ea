# MeshBulkheads: `make run` starts the mesh locally, `make test` builds once and runs every test.
SHELL := /bin/bash
DOTNET ?= dotnet
CONFIGURATION ?= Debug
SOLUTION := MeshBulkheads.sln
SCRIPTS := $(wildcard scripts/*.sh) .ci/run

.PHONY: restore build test run deps lint-scripts format-check proto \
	helm-lint helm-test kind-up kind-load deploy bench profile

restore:
	$(DOTNET) restore $(SOLUTION)

build: restore
	$(DOTNET) build $(SOLUTION) --no-restore -c $(CONFIGURATION)

# Installs missing apt packages (quick when present), checks the scripts, builds once, runs every
# test project on that build and ends with "N passed, N failed, N skipped".
test: deps lint-scripts build
	CONFIGURATION=$(CONFIGURATION) scripts/test.sh

# Gateway 127.0.0.1:8080 and the three services with the Aspire dashboard; Ctrl-C stops them all.
run:
	scripts/run.sh

deps:
	scripts/ensure-deps.sh apt node

lint-scripts:
	shellcheck $(SCRIPTS)

format-check:
	$(DOTNET) format $(SOLUTION) --verify-no-changes

# The protos compile once, in libs/MeshBulkheads.Contracts (Grpc.Tools, client and server).
proto:
	$(DOTNET) build libs/MeshBulkheads.Contracts -c $(CONFIGURATION)

# Not in `test` until their tooling exists.
helm-lint helm-test kind-up kind-load deploy:
	@scripts/not-implemented.sh $@ "the Helm chart (helm/) and kind deployment (k8s/kind/) have no issue filed yet; scripts/ensure-deps.sh helm installs helm"

# BenchmarkDotNet: bulkhead acquire/release vs ConcurrencyLimiter; results into docs/benchmarks.md.
# JOB=short|medium|long (default short).
bench:
	scripts/bench.sh $(JOB)

# CPU profile of a running local service (dotnet-trace, speedscope format): make profile SERVICE=render SECONDS=10
profile:
	scripts/profile.sh $(SERVICE) $(SECONDS)
