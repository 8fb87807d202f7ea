# MeshBulkheads: `make run` starts the mesh locally, `make test` builds once and runs every test.
SHELL := /bin/bash
DOTNET ?= dotnet
CONFIGURATION ?= Debug

.PHONY: restore build test

restore:
	$(DOTNET) restore MeshBulkheads.sln

build: restore
	$(DOTNET) build MeshBulkheads.sln --no-restore -c $(CONFIGURATION)

test: build
	$(DOTNET) test --solution MeshBulkheads.sln --no-build -c $(CONFIGURATION)
