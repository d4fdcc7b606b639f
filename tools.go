//go:build tools

// Package cliogo pins the code generator. go.mod's tool directive is what `go tool
// oapi-codegen` (and so `go generate ./...`) runs; this file keeps the pin visible to tooling
// that predates that directive. It is never compiled.
package cliogo

import _ "github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen"
