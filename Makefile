# clio-go: every target uses only the Go toolchain and the tools pinned in go.mod.
GO ?= go
PKGS = ./...
# Modules of their own under contrib/, kept apart so that the library's users do not
# inherit their dependencies; make test and make lint cover them too.
CONTRIB = contrib/river

.PHONY: all example generate check-generated fmt-check vet test test-race lint bench bench-replica sync-demo relocate bump report goldens test-deps

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

## test: formatting, vet, and every test: spec validation, drift of api/ and gen/, client, fake server,
## a synthetic version bump end to end
test: fmt-check vet test-deps
	$(GO) test -count=1 $(PKGS)
	for m in $(CONTRIB); do (cd $$m && $(GO) test -count=1 ./...) || exit 1; done

## test-deps: fetch every module the tests build with (ours, oapi-codegen's, oasdiff's and
## apidiff's) before the tests, so that the synthetic version bump runs offline
test-deps:
	$(GO) mod download
	$(GO) mod download -modfile=tools/reports/go.mod
	for m in $(CONTRIB); do (cd $$m && $(GO) mod download) || exit 1; done

## relocate: rewrite the reference_line column of api/source/clio-endpoints.tsv from the headings
## of api/source/clio-api-v4-reference.txt; names every row it cannot place
relocate:
	$(GO) run ./cmd/transcribe relocate

## bump: take a new reference in: make bump REF=reference.txt TSV=endpoints.tsv [VERSION=4.0.x]
## copies both into api/source, relocates, regenerates, prints the API and Go API change reports
## (also in .bump/report.md) and drafts a CHANGELOG.md entry
bump:
	$(GO) run ./cmd/bump -ref "$(REF)" -endpoints "$(TSV)" -version "$(VERSION)"

## report: the change reports of this tree against BASE, a checkout of another revision
## (git worktree add /tmp/main main; make report BASE=/tmp/main)
report:
	$(GO) run ./cmd/bump report -base "$(BASE)"

## goldens: refresh the golden report of the synthetic version from the code, never by hand
goldens: test-deps
	$(GO) test -count=1 ./cmd/bump -run TestSyntheticVersion -update

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
