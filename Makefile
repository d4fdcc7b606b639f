# clio-go: every target uses only the Go toolchain and the tools pinned in go.mod.
GO ?= go
PKGS = ./...
# Modules of their own under contrib/, kept apart so that the library's users do not
# inherit their dependencies; make test and make lint cover them too.
CONTRIB = contrib/river

.PHONY: all example generate check-generated fmt-check vet test test-race lint bench bench-replica sync-demo

all: test

## example: the quickstart against the embedded fake Clio (real Clio when CLIO_* are set)
example:
	$(GO) run ./cmd/quickstart

## sync-demo: clio sync against the embedded fake, into clio.db
sync-demo:
	$(GO) run ./cmd/clio sync --fake --db clio.db

## generate: reference text -> api/openapi.yaml -> gen/openapi.json -> gen/clio.gen.go
generate:
	$(GO) generate ./...

## check-generated: regenerate and fail if anything committed differs
check-generated: generate
	git diff --exit-code -- api gen clio

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '^gen/')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)
	for m in $(CONTRIB); do (cd $$m && $(GO) vet ./...) || exit 1; done

## test: formatting, vet, and every test: spec validation, drift of api/ and gen/, client, fake server
test: fmt-check vet
	$(GO) test -count=1 $(PKGS)
	for m in $(CONTRIB); do (cd $$m && $(GO) test -count=1 ./...) || exit 1; done

test-race:
	$(GO) test -race -count=1 ./clio/...

## lint: golangci-lint (.golangci.yml: staticcheck, errcheck, errorlint, ...) and actionlint,
## pinned in tools/go.mod, apart from our dependencies
lint:
	$(GO) tool -modfile=tools/go.mod golangci-lint run ./...
	for m in $(CONTRIB); do (cd $$m && $(GO) tool -modfile=$(CURDIR)/tools/go.mod golangci-lint run ./...) || exit 1; done
	$(GO) tool -modfile=tools/actionlint/go.mod actionlint

## bench: the benchmarks quoted in the README
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./clio/...

## bench-replica: records per second from the fake to SQLite and PostgreSQL, 1 to 3 workers
bench-replica:
	$(GO) test -run '^$$' -bench . -benchtime 5x ./clio/replica/
