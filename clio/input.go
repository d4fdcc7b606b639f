package clio

import (
	"time"

	"github.com/clio-go/clio-go/gen"
	openapi_types "github.com/oapi-codegen/runtime/types"
)

// Building the inputs of Create and Update: optional fields are pointers, references to
// other records are {id} objects, and dates are the generator's Date type. These helpers
// spare the ceremony:
//
//	in := gen.MatterCreateInput{
//		Client:      clio.Ref(contactID),
//		Description: clio.Ptr("Smith v Jones"),
//		OpenDate:    clio.Date(2026, time.March, 2),
//	}

// Ptr returns a pointer to v, for the optional fields of generated parameters and inputs:
//
//	&gen.ListMattersParams{Status: clio.Ptr(gen.ListMattersParamsStatusOpen)}
func Ptr[T any](v T) *T { return &v }

// Ref returns a reference to the record with this id, as inputs name related records
// (a matter's client, an activity's matter).
func Ref(id int64) *gen.IdInput { return &gen.IdInput{Id: &id} }

// Date returns the calendar date year-month-day for a date field of an input.
func Date(year int, month time.Month, day int) *openapi_types.Date {
	return &openapi_types.Date{Time: time.Date(year, month, day, 0, 0, 0, 0, time.UTC)}
}

// DateOf returns the calendar date of t, in t's location, for a date field of an input.
func DateOf(t time.Time) *openapi_types.Date {
	return Date(t.Year(), t.Month(), t.Day())
}
