package clio

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
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
	// Unmarshal decodes data into v. It must not retain data, nor leave v
	// referring to it, after returning: the client reuses the buffer for the
	// next answer (encoding/json and go-json copy what they keep).
	Unmarshal(data []byte, v any) error
	// NewDecoder returns a Decoder that reads from r. The client uses it for
	// answers larger than 1 MiB, decoding them straight from the response body
	// without buffering the whole body; smaller ones go to Unmarshal.
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

// wholeBody is the largest answer decoded in one piece from a pooled buffer instead of
// streamed. A whole-input decode is about 1.5x faster than a stream decode with go-json,
// and a 20-record page fits; a 200-record page (several MB) is streamed, so memory stays
// bounded by this size per concurrent decode whatever the page size.
const wholeBody = 1 << 20

var bodyBufs = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

// decodeAnswer decodes one JSON answer from body into v: read whole into a reused buffer
// when it is small, streamed otherwise (the bytes already read are streamed first).
func decodeAnswer(codec Codec, body io.Reader, v any) error {
	bp := bodyBufs.Get().(*[]byte)
	defer bodyBufs.Put(bp)
	buf := (*bp)[:0]
	for len(buf) < wholeBody {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, min(cap(buf), wholeBody))
		}
		n, err := body.Read(buf[len(buf):min(cap(buf), wholeBody)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			*bp = buf
			return codec.Unmarshal(buf, v)
		}
		if err != nil {
			*bp = buf
			return err
		}
	}
	*bp = buf
	dec := codec.NewDecoder(io.MultiReader(bytes.NewReader(buf), body))
	if err := dec.Decode(v); err != nil {
		return err
	}
	// As Unmarshal does for small answers: anything after the value is an error, not
	// something to ignore.
	var extra struct{}
	if err := dec.Decode(&extra); err != io.EOF { //nolint:errorlint // io.EOF is returned bare by decoders
		if err == nil {
			err = errors.New("more than one JSON value")
		}
		return fmt.Errorf("clio: data after the JSON answer: %w", err)
	}
	return nil
}

// isTruncated reports a decode error caused by input that ends too early: the JSON was
// cut, though HTTP said the answer was complete. Both codecs say so in these words.
func isTruncated(err error) bool {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "unexpected end of JSON input") || strings.Contains(msg, "unexpected EOF")
}
