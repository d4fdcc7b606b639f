// Package api holds the curated OpenAPI 3 document of Clio Manage API v4.
//
// The document is transcribed from the reference text in source/ by
// cmd/transcribe; corrections.yaml holds the curated fixes the text cannot give.
package api

import _ "embed"

// OpenAPI is api/openapi.yaml, embedded so that tools and the fake server need no file path.
//
//go:embed openapi.yaml
var OpenAPI []byte
