package clio

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

// decodeAnswer reads small answers whole and streams large ones; both give what
// encoding/json gives, and a body cut short is an error.
func TestDecodeAnswerSmallAndLarge(t *testing.T) {
	type rec struct {
		ID   int    `json:"id"`
		Name string `json:"name"`
	}
	for _, n := range []int{0, 3, 20_000, 60_000} { // 60,000 records: about 2.5 MB, past wholeBody
		var b strings.Builder
		b.WriteString(`{"data":[`)
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"id":%d,"name":"r\u00e9cord %d"}`, i, i)
		}
		b.WriteString(`],"meta":{"paging":{},"records":` + fmt.Sprint(n) + `}}` + "\n")
		var want, got page[rec]
		if err := json.Unmarshal([]byte(b.String()), &want); err != nil {
			t.Fatal(err)
		}
		for name, codec := range map[string]Codec{"fast": FastCodec{}, "json": JSONCodec{}} {
			got = page[rec]{}
			if err := decodeAnswer(codec, iotest.HalfReader(strings.NewReader(b.String())), &got); err != nil {
				t.Fatalf("%s, %d records: %v", name, n, err)
			}
			if !reflect.DeepEqual(got.Data, want.Data) || !reflect.DeepEqual(got.Meta.Records, want.Meta.Records) {
				t.Fatalf("%s, %d records: decoded differently", name, n)
			}
		}
		if n > 0 {
			cut := b.String()[:b.Len()/2]
			err := decodeAnswer(FastCodec{}, io.MultiReader(strings.NewReader(cut), iotest.ErrReader(io.ErrUnexpectedEOF)), &got)
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("%d records cut in half: %v, want io.ErrUnexpectedEOF", n, err)
			}
			if err := decodeAnswer(FastCodec{}, bytes.NewReader([]byte(cut)), &got); err == nil {
				t.Fatalf("%d records: a body ending mid-value was accepted", n)
			}
		}
	}
}

// Values decoded from a pooled buffer keep nothing of it: the next answer, decoded into the
// same buffer, leaves them as they were (strings, json.RawMessage, untyped maps).
func TestDecodeAnswerDoesNotAliasThePooledBuffer(t *testing.T) {
	type rec struct {
		Name string          `json:"name"`
		Raw  json.RawMessage `json:"raw"`
		Any  map[string]any  `json:"any"`
	}
	for name, codec := range map[string]Codec{"fast": FastCodec{}, "json": JSONCodec{}} {
		var first envelope[rec]
		if err := decodeAnswer(codec, strings.NewReader(`{"data":{"name":"aaaa","raw":{"k":"aaaa"},"any":{"k":"aaaa"}}}`), &first); err != nil {
			t.Fatal(err)
		}
		for range 4 {
			var next envelope[rec]
			if err := decodeAnswer(codec, strings.NewReader(`{"data":{"name":"zzzz","raw":{"k":"zzzz"},"any":{"k":"zzzz"}}}`), &next); err != nil {
				t.Fatal(err)
			}
		}
		d := first.Data
		if d.Name != "aaaa" || string(d.Raw) != `{"k":"aaaa"}` || d.Any["k"] != "aaaa" {
			t.Errorf("%s: first answer changed by the next ones: %+v (raw %s)", name, d, d.Raw)
		}
	}
}

// Small answers (Unmarshal) and large ones (streamed) treat data after the value alike.
func TestDecodeAnswerTrailingData(t *testing.T) {
	big := `{"data":[` + strings.Repeat(`{"id":1},`, 150_000) + `{"id":2}]}` // past wholeBody
	for _, body := range []string{`{"data":[{"id":1}]}`, big} {
		var p page[map[string]any]
		if err := decodeAnswer(FastCodec{}, strings.NewReader(body+" \n"), &p); err != nil {
			t.Fatalf("%d bytes + whitespace: %v", len(body), err)
		}
		if err := decodeAnswer(FastCodec{}, strings.NewReader(body+`{"x":1}`), &p); err == nil {
			t.Fatalf("%d bytes + a second value: accepted", len(body))
		}
		if err := decodeAnswer(FastCodec{}, strings.NewReader(body+"garbage"), &p); err == nil {
			t.Fatalf("%d bytes + garbage: accepted", len(body))
		}
	}
}
