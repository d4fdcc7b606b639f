package payload

import "reflect"

//go:generate go test . -run TestModelsUpToDate -update

// Model is one generated Go type that a body of the document decodes into
// (or, for request bodies, encodes from). The tables ResponseModels and
// RequestModels in models_gen.go are generated from the document by
// TestModelsUpToDate, which fails when they are stale.
type Model struct {
	// Schema is the component schema name, "" for an inline schema.
	Schema string
	// Operation and Status name the operation for an inline response
	// schema or a request body ("" for component schemas).
	Operation, Status string
	// GoType is the Go type, as written in package gen.
	GoType string
	// New returns a pointer to a fresh zero value of the type.
	New func() any
}

// Key is the name the tables and the tests use for the model: the schema
// name, or "Operation/Status" for an inline body.
func (m Model) Key() string {
	if m.Schema != "" {
		return m.Schema
	}
	if m.Status == "" {
		return m.Operation
	}
	return m.Operation + "/" + m.Status
}

// newField returns a pointer to a fresh value of the element type of the
// pointer field name of struct v: the anonymous struct types that
// oapi-codegen writes for inline response schemas have no name to use.
func newField(v any, name string) any {
	f, ok := reflect.TypeOf(v).FieldByName(name)
	if !ok || f.Type.Kind() != reflect.Pointer {
		panic("payload: no pointer field " + name + " in " + reflect.TypeOf(v).String())
	}
	return reflect.New(f.Type.Elem()).Interface()
}
