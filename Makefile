# clio-go: every target uses only the Go toolchain and the tools pinned in go.mod.
GO ?= go
PKGS = ./...

.PHONY: all example generate check-generated fmt-check vet test test-race lint bench

all: test

## example: the quickstart against the embedded fake Clio (real Clio when CLIO_* are set)
example:
	$(GO) run ./cmd/quickstart

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

## test: formatting, vet, and every test: spec validation, drift of api/ and gen/, client, fake server
test: fmt-check vet
	$(GO) test -count=1 $(PKGS)

test-race:
	$(GO) test -race -count=1 ./clio/...

## lint: golangci-lint (.golangci.yml: staticcheck, errcheck, errorlint, ...) and actionlint,
## pinned in tools/go.mod, apart from our dependencies
lint:
	$(GO) tool -modfile=tools/go.mod golangci-lint run ./...
	$(GO) tool -modfile=tools/actionlint/go.mod actionlint

## bench: the benchmarks quoted in the README
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./clio/...
