package clio

import (
	"strconv"
	"time"
)

// Operator is a comparison of Clio's filters: date filters such as a matter's
// open_date[] (">=2024-01-01") and custom-field filters (custom_field_values[12]=">=5")
// take an operator and a value. The reference shows these filters as an enum of
// templates (">=DATE"); the document types them as strings with the real syntax's
// pattern, and these helpers write that syntax.
type Operator string

// The operators Clio's filters take.
const (
	Eq  Operator = "="
	Lt  Operator = "<"
	Lte Operator = "<="
	Gt  Operator = ">"
	Gte Operator = ">="
)

// Date writes a date condition: Gte.Date(t) is ">=2024-01-01", the calendar date of t in
// its own location (Clio's date filters take a day, not an instant).
//
//	p := &gen.ListMattersParams{OpenDate: []string{clio.Gte.Date(from), clio.Lt.Date(to)}}
//
// Several conditions on one filter must all hold.
func (op Operator) Date(t time.Time) string { return string(op) + t.Format(time.DateOnly) }

// Value writes a condition on a custom field's value: Gte.Value("5") is ">=5", for
//
//	p := &gen.ListMattersParams{CustomFieldValues: map[string]string{clio.CustomFieldKey(12): clio.Gte.Value("5")}}
func (op Operator) Value(v string) string { return string(op) + v }

// CustomFieldKey is the key of a custom-field filter: the custom field's id.
func CustomFieldKey(id int64) string { return strconv.FormatInt(id, 10) }
