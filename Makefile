# MeshBulkheads: `make run` starts the mesh locally, `make demo` shows it with and without bulkheads,
# `make test` builds once and runs every test.
SHELL := /bin/bash
DOTNET ?= dotnet
CONFIGURATION ?= Debug
SOLUTION := MeshBulkheads.sln
SCRIPTS := $(wildcard scripts/*.sh) $(wildcard k8s/*.sh) $(wildcard k8s/chaos/*.sh) k8s/chaos/shim/kubectl k8s/chaos/shim/helm k8s/chaos/shim/common.sh .ci/run

.PHONY: restore build test run demo deps lint-scripts format-check proto bench profile token identity-env key-hash key-new

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

# The mesh twice from a Release build (no AppHost, no dashboard, loopback ports 28080-28193): as shipped and with
# Mesh:Pitfalls:NoBulkheads=true, meshload's noisy-neighbor against each, a side-by-side table and one HTML report
# (artifacts/demo/demo.html). Prints the build time and the demo time separately.
demo:
	scripts/demo.sh

deps:
	scripts/ensure-deps.sh apt helm node

lint-scripts:
	shellcheck $(SCRIPTS)

format-check:
	$(DOTNET) format $(SOLUTION) --verify-no-changes

# The protos compile once, in libs/MeshBulkheads.Contracts (Grpc.Tools, client and server).
proto:
	$(DOTNET) build libs/MeshBulkheads.Contracts -c $(CONFIGURATION)

# The benchmarks of docs/benchmarks.md (gateway cost vs bare YARP/nginx/direct, isolation, overload,
# deadlines, memory, bulkhead microbenchmark) on Release hosts on 127.0.0.1; ≤ 20 min on 2 cores.
# ONLY=gateway|isolation|overload|deadlines|memory|bulkhead runs one part (default all);
# BENCH_SHORT=1 scales durations down (checks the harness, not a measurement); JOB=short|medium|long
# is the BenchmarkDotNet job. Writes docs/benchmarks.md and docs/benchmarks.json. Not part of `make test`.
bench:
	scripts/ensure-deps.sh apt
	BENCH_JOB=$(or $(JOB),short) scripts/bench.sh $(or $(ONLY),all)

# The chaos experiments on the local mesh (docs/reliability.md, tools/MeshBulkheads.Chaos): each as shipped and
# with its protection switched off, Release hosts on 127.0.0.1, journals in artifacts/chaos/, then docs/reliability.md
# generated from them; ≤ 10 min on 2 cores. EXPERIMENT="<id> ..." runs some (meshchaos list). Not part of `make test`.
.PHONY: chaos
chaos:
	scripts/ensure-deps.sh apt
	EXPERIMENT="$(EXPERIMENT)" scripts/chaos.sh

# The guided tour (docs/tour.md): one step per row of the seed, each switch off and on, the numbers of
# the metric it names. STEP=1..19 (or list); SHORT=1 for the short runs. Release hosts by default.
TOUR_CONFIGURATION ?= Release
.PHONY: tour tour-check
tour:
	scripts/ensure-deps.sh apt node
	CONFIGURATION=$(TOUR_CONFIGURATION) TOUR_SHORT=$(or $(SHORT),0) scripts/tour.sh $(STEP)

# Every step in short mode (minutes; not part of `make test`).
tour-check:
	scripts/ensure-deps.sh apt node
	CONFIGURATION=$(TOUR_CONFIGURATION) TOUR_SHORT=1 scripts/tour.sh all

# CPU or allocation profile of a running local service (dotnet-trace): make profile SERVICE=render SECONDS=10 [KIND=alloc]
profile:
	scripts/profile.sh $(SERVICE) $(or $(SECONDS),10) $(or $(KIND),cpu)

# Fresh identity keys for hosts you start yourself (make run makes its own on every start).
identity-env:
	@scripts/identity-env.sh

# An identity token for a direct call to a service of the running `make run` mesh (docs/security.md):
# make token METHOD=GetBalance [TENANT=acme] [TTL=10m] [DELEGATION=1 for BuildReport's payments token]
token:
	@test -f artifacts/run/identity.env || { echo "make token: no artifacts/run/identity.env; start the mesh with make run (or make identity-env) first" >&2; exit 1; }
	@test -f artifacts/bin/MeshBulkheads.LoadGen/debug/MeshBulkheads.LoadGen.dll || dotnet build tools/MeshBulkheads.LoadGen -c Debug --nologo -v quiet -clp:NoSummary >&2
	@. artifacts/run/identity.env && dotnet artifacts/bin/MeshBulkheads.LoadGen/debug/MeshBulkheads.LoadGen.dll token \
	  --method $(or $(METHOD),GetBalance) --tenant $(or $(TENANT),acme) --ttl $(or $(TTL),10m) $(if $(DELEGATION),--delegation)

# The stored hash of a tenant's API key for Gateway:ApiKeysFile (docs/security.md): the key from MESH_API_KEY or stdin,
# never the command line: `make key-hash < key.txt`. `make key-new` generates a key and prints it with its hash.
key-hash key-new:
	@test -f artifacts/bin/MeshBulkheads.LoadGen/debug/MeshBulkheads.LoadGen.dll || dotnet build tools/MeshBulkheads.LoadGen -c Debug --nologo -v quiet -clp:NoSummary >&2
	@dotnet artifacts/bin/MeshBulkheads.LoadGen/debug/MeshBulkheads.LoadGen.dll $@

# --- The chart and the cluster workflow (docs/kubernetes.md) ---------------------------------------
.PHONY: helm-lint helm-test helm-readme doctor images kind-up kind-load kind-down deploy undeploy \
	minikube-up minikube-load minikube-deploy minikube-down kind-e2e

CHART := helm/meshbulkheads
HELM := .tools/bin/helm
CHART_TESTS := tests/MeshBulkheads.Chart.Tests
CHART_TESTS_BIN = artifacts/bin/MeshBulkheads.Chart.Tests/$(shell echo $(CONFIGURATION) | tr A-Z a-z)/MeshBulkheads.Chart.Tests

# helm lint --strict on the defaults and every ci/*-values.yaml (fast; no .NET build).
helm-lint:
	scripts/ensure-deps.sh helm
	$(HELM) lint --strict $(CHART)
	for values in $(CHART)/ci/*-values.yaml; do $(HELM) lint --strict $(CHART) -f "$$values" || exit 1; done

# The chart test project alone: render at 1.30/1.35, schema, guards, strict object validation,
# Pod Security, NetworkPolicy pairs, configuration binding, Dockerfile and script checks.
helm-test: helm-lint
	scripts/ensure-deps.sh helm node
	$(DOTNET) build $(CHART_TESTS) -c $(CONFIGURATION) -v q
	$(CHART_TESTS_BIN)

# Rewrites the values table in helm/meshbulkheads/README.md from the `## @param` comments, with the
# pinned readme-generator the chart tests use (scripts/ensure-deps.sh node installs it).
helm-readme:
	scripts/ensure-deps.sh node
	tests/MeshBulkheads.Chart.Tests/node/node_modules/.bin/readme-generator -v $(CHART)/values.yaml -r $(CHART)/README.md

# A cluster on your machine (Docker or Podman + kind or minikube):
#   make doctor kind-up images kind-load deploy     (then undeploy, kind-down)
#   make doctor PLATFORM=minikube; make minikube-up images minikube-load minikube-deploy
doctor:
	PLATFORM=$(or $(PLATFORM),kind) scripts/k8s.sh doctor

# meshbulkheads/<name>:<chart appVersion> for gateway, payments, reporting, render (docker or podman).
images:
	scripts/k8s.sh images

kind-up kind-load kind-down minikube-up minikube-load minikube-down:
	scripts/k8s.sh $@

# Creates the namespace labelled for the restricted Pod Security Standard, then helm upgrade --install.
deploy:
	PLATFORM=kind scripts/k8s.sh deploy

minikube-deploy:
	PLATFORM=minikube scripts/k8s.sh deploy

undeploy:
	scripts/k8s.sh undeploy

# What CI runs on a forge with Docker (.github/workflows/kind.yaml): up, build, load, deploy, helm test, down.
kind-e2e:
	scripts/kind-e2e.sh

# --- Chaos in the cluster (k8s/chaos/README.md) -----------------------------------------------------
.PHONY: chaos-k8s

# Every k8s/chaos experiment against the deployed mesh (make deploy), each as shipped and as its negative control;
# a table of verdicts; non-zero unless every hypothesis held and every control deviated. EXPERIMENT="<id> …" runs some.
# NAMESPACE, RELEASE, KUBECTL and CHAOS_* as in k8s/chaos/lib.sh.
chaos-k8s:
	scripts/ensure-deps.sh helm
	k8s/chaos/run-all.sh $(EXPERIMENT)

# The same scripts through k8s/chaos/shim/kubectl and shim/helm against a local mesh (no cluster): their control flow
# end to end, with run-all.sh's table; every pod a process on one machine (k8s/chaos/README.md says what differs).
.PHONY: chaos-shim
chaos-shim:
	scripts/ensure-deps.sh apt helm node
	EXPERIMENT="$(EXPERIMENT)" scripts/chaos-shim.sh

# --- Autoscaling (docs/autoscaling.md) --------------------------------------------------------------
.PHONY: check-hpa

# Each custom metric as the HPA reads it (kubectl get --raw /apis/custom.metrics.k8s.io/...), CPU from
# metrics-server, and the HPA status: NAMESPACE=meshbulkheads RELEASE=mesh by default.
check-hpa:
	scripts/check-hpa.sh
