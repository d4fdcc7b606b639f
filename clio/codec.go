package clio

import (
	"encoding/json"
	"io"
)

// Codec turns Go values into wire bytes and back. Every answer the client
// decodes (single records, list pages, iterator pages and error bodies) goes
// through the Client's Codec, so a faster JSON implementation can be plugged
// in with WithCodec without touching the rest of the package.
//
// Implementations must be safe for concurrent use: offset pagination decodes
// several pages at once.
type Codec interface {
	// Marshal encodes v.
	Marshal(v any) ([]byte, error)
	// Unmarshal decodes data into v.
	Unmarshal(data []byte, v any) error
	// NewDecoder returns a Decoder that reads from r. The client uses it to
	// decode answers straight from the response body, without buffering the
	// whole body first.
	NewDecoder(r io.Reader) Decoder
}

// Decoder decodes one value from a stream; *json.Decoder satisfies it.
type Decoder interface {
	Decode(v any) error
}

// JSONCodec is the Codec backed by encoding/json. FastCodec is the default; pass
// WithCodec(JSONCodec{}) for the standard library.
type JSONCodec struct{}

// Marshal implements Codec with json.Marshal.
func (JSONCodec) Marshal(v any) ([]byte, error) { return json.Marshal(v) }

// Unmarshal implements Codec with json.Unmarshal.
func (JSONCodec) Unmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

// NewDecoder implements Codec with json.NewDecoder.
func (JSONCodec) NewDecoder(r io.Reader) Decoder { return json.NewDecoder(r) }
