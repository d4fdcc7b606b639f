package clio_test

import (
	"fmt"
	"time"

	"github.com/clio-go/clio-go/clio"
	"github.com/clio-go/clio-go/gen"
)

// Matters opened in January 2024 that are open or pending, whose custom field 12 is at
// least 5: the conditions go out as open_date[]=>=2024-01-01&open_date[]=<2024-02-01,
// status=open,pending and custom_field_values[12]=>=5.
func ExampleOperator_Date() {
	from := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	params := &gen.ListMattersParams{
		OpenDate:          []string{clio.Gte.Date(from), clio.Lt.Date(from.AddDate(0, 1, 0))},
		Status:            []gen.ListMattersParamsStatus{gen.ListMattersParamsStatusOpen, gen.ListMattersParamsStatusPending},
		CustomFieldValues: map[string]string{clio.CustomFieldKey(12): clio.Gte.Value("5")},
	}
	fmt.Println(params.OpenDate, params.CustomFieldValues)
	// Output: [>=2024-01-01 <2024-02-01] map[12:>=5]
}
