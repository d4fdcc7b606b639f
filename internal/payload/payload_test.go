package payload_test

import (
	"encoding/json"
	"testing"

	"github.com/clio-go/clio-go/internal/payload"
)

const docPath = "../../gen/openapi.json"

func loadDoc(t testing.TB) *payload.Doc {
	t.Helper()
	d, err := payload.LoadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestPayloadValidJSON: every variant of every response and request body is
// syntactically valid JSON (the invalid-UTF-8 variant aside, which
// json.Valid accepts too since it does not check UTF-8).
func TestPayloadValidJSON(t *testing.T) {
	d := loadDoc(t)
	bodies := append(d.Responses(), d.RequestBodies()...)
	if len(bodies) < 200 {
		t.Fatalf("only %d bodies in the document", len(bodies))
	}
	for _, b := range bodies {
		for _, v := range payload.Variants() {
			data := payload.Generate(b.Value, v, 1)
			if !json.Valid(data) {
				t.Fatalf("%s %s %s: invalid JSON: %.300s", b.Operation, b.Status, v, data)
			}
		}
	}
}

func TestPayloadDeterministic(t *testing.T) {
	d := loadDoc(t)
	a, _ := d.GenerateNamed("Matter_show", payload.Full, 3)
	b, _ := d.GenerateNamed("Matter_show", payload.Full, 3)
	c, _ := d.GenerateNamed("Matter_show", payload.Full, 4)
	if string(a) != string(b) || string(a) == string(c) {
		t.Fatal("payloads must depend on the seed and nothing else")
	}
}

func TestPayloadPage(t *testing.T) {
	d := loadDoc(t)
	for _, name := range []string{"Matter_list", "Contact_list"} {
		for _, n := range []int{20, 200} {
			data, err := d.Page(name, n)
			if err != nil {
				t.Fatal(err)
			}
			var env struct {
				Data []map[string]any `json:"data"`
				Meta map[string]any   `json:"meta"`
			}
			if err := json.Unmarshal(data, &env); err != nil {
				t.Fatal(err)
			}
			if len(env.Data) != n || env.Meta == nil {
				t.Fatalf("%s/%d: %d records, meta %v", name, n, len(env.Data), env.Meta)
			}
			if env.Data[0]["id"] == env.Data[1]["id"] {
				t.Fatalf("%s: records share an id", name)
			}
			t.Logf("%s page of %d: %d bytes (%d per record)", name, n, len(data), len(data)/n)
		}
	}
	if _, err := d.Page("Matter_show", 2); err == nil {
		t.Fatal("Page accepted a schema that is not a list envelope")
	}
}
