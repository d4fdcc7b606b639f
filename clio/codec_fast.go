package clio

import (
	"io"

	gojson "github.com/goccy/go-json"
)

// FastCodec is a Codec backed by github.com/goccy/go-json, a pure-Go
// drop-in replacement of encoding/json that fills the generated models
// about three times faster.
//
// It decodes exactly as encoding/json does into the types of package gen:
// the differential tests (codec_diff_test.go) decode payloads built from
// every response schema of the API document with both and require equal Go
// values, field-name matching without regard to case, duplicate keys (the
// last one wins, merging into objects), unknown fields, null, large
// integers, integer overflow errors, invalid UTF-8 (replaced with U+FFFD),
// and the UnmarshalJSON methods of time.Time and openapi_types.Date. Request
// bodies marshal to the same bytes. A fuzz target (FuzzCodecAgreement)
// checks that both accept and reject the same inputs.
//
// Two differences remain, both only on input that is rejected anyway: when
// a decode fails the value may hold what was decoded before the error
// (encoding/json.Unmarshal leaves it untouched on a syntax error), and the
// errors are go-json's own types (such as *gojson.SyntaxError), with the
// same messages, not the ones of encoding/json: errors.As against
// *json.SyntaxError or *json.UnmarshalTypeError of encoding/json does not
// match them.
//
// NewDecoder streams: the decoder reads the body in small chunks and
// decodes list elements as they arrive, so a page never sits in memory
// whole as raw bytes next to its decoded records.
//
// FastCodec has no state; its zero value is ready to use and safe for
// concurrent use.
type FastCodec struct{}

var _ Codec = FastCodec{}

// Marshal implements Codec with go-json's Marshal, which writes the same
// bytes as json.Marshal (HTML characters escaped, map keys sorted).
func (FastCodec) Marshal(v any) ([]byte, error) { return gojson.Marshal(v) }

// Unmarshal implements Codec with go-json's Unmarshal.
func (FastCodec) Unmarshal(data []byte, v any) error { return gojson.Unmarshal(data, v) }

// NewDecoder implements Codec with go-json's streaming Decoder.
func (FastCodec) NewDecoder(r io.Reader) Decoder { return gojson.NewDecoder(r) }
