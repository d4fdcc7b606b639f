// Package cliogo is the root of the clio-go module: generate.go holds the go:generate
// lines that rebuild api/openapi.yaml, gen/ and clio/services_gen.go. Users import
// github.com/clio-go/clio-go/clio.
package cliogo

// The document from the reference text, the generator's input from the document, the Go code
// from the generator's input. `go generate ./...` at the root runs all three.
//go:generate go run ./cmd/transcribe -ref api/source/clio-api-v4-reference.txt -endpoints api/source/clio-endpoints.tsv -corrections api/corrections.yaml -out api/openapi.yaml -report api/rules-report.txt -version-out api/version.go
//go:generate go run ./cmd/specfix -q -in api/openapi.yaml -out gen/openapi.json
//go:generate go tool oapi-codegen -config gen/oapi-codegen.yaml gen/openapi.json
//go:generate go run ./cmd/servicegen -spec gen/openapi.json -gen gen/clio.gen.go -out clio/services_gen.go -required clio/required_gen.go
