package clio

import (
	"reflect"
	"strings"
	"testing"

	"github.com/clio-go/clio-go/api"
	"github.com/getkin/kin-openapi/openapi3"
)

// notLists are index operations whose answer, as the reference shows it, is not a list.
var notLists = map[string]string{
	"EventMetrics#index":           "answers one summary record",
	"CalendarEntryEventType#index": "the reference shows a bare record, without the data envelope",
}

// Every operation of api/openapi.yaml is reachable from a Client: its service has the method
// serviceOperations names, and a list operation has an iterator too.
func TestEveryOperationIsReachableFromClient(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	byOp := map[string][][3]string{}
	for _, e := range serviceOperations {
		byOp[e[0]] = append(byOp[e[0]], e)
	}
	client := reflect.TypeOf(&Client{})
	n := 0
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			n++
			clioOp := strings.Replace(op.OperationID, "_", "#", 1)
			entries := byOp[clioOp]
			if len(entries) == 0 {
				t.Errorf("%s %s (%s): no service method", method, path, clioOp)
				continue
			}
			for _, e := range entries {
				field, ok := client.Elem().FieldByName(e[1])
				if !ok {
					t.Errorf("%s: Client has no service %s", clioOp, e[1])
					continue
				}
				if _, ok := field.Type.MethodByName(e[2]); !ok {
					t.Errorf("%s: %s has no method %s", clioOp, field.Type, e[2])
				}
			}
			if strings.HasSuffix(clioOp, "#index") && op.Responses.Value("200") != nil {
				iter := false
				for _, e := range entries {
					iter = iter || strings.HasPrefix(e[2], "All")
				}
				if !iter && notLists[clioOp] == "" {
					t.Errorf("%s: a list operation without an iterator", clioOp)
				}
			}
		}
	}
	if n != 278 {
		t.Errorf("the document has %d operations, want 278", n)
	}
}

// The pinned X-API-VERSION is the version the document was transcribed from.
func TestAPIVersionIsTheDocumentVersion(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	if APIVersion != doc.Info.Version {
		t.Fatalf("APIVersion = %s, api/openapi.yaml info.version = %s", APIVersion, doc.Info.Version)
	}
}
