package api

import (
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

func TestVersionIsTheDocuments(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	if doc.Info == nil || doc.Info.Version != Version {
		t.Fatalf("openapi.yaml info.version is %v, api.Version %q: cmd/transcribe writes both: run go generate ./...", doc.Info, Version)
	}
}
