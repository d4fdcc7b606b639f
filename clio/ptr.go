package clio

// Ptr returns a pointer to v, for the optional fields of generated parameters and bodies:
//
//	&gen.ListMattersParams{Status: clio.Ptr(gen.ListMattersParamsStatusOpen)}
func Ptr[T any](v T) *T { return &v }
