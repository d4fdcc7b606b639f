package clio_test

// Differential tests of FastCodec against encoding/json (JSONCodec): every
// generated response model decodes every payload variant to the same Go
// value with both, through Unmarshal and through the streaming Decoder the
// client uses, and every generated request body marshals to the same bytes.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/oapi-codegen/oapi-codegen/v2/pkg/codegen"

	"github.com/clio-go/clio-go/clio"
	"github.com/clio-go/clio-go/gen"
	"github.com/clio-go/clio-go/internal/payload"
)

const codecDocPath = "../gen/openapi.json"

var (
	codecDocOnce sync.Once
	codecDoc     *payload.Doc
	codecDocErr  error
)

func loadCodecDoc(t testing.TB) *payload.Doc {
	t.Helper()
	codecDocOnce.Do(func() { codecDoc, codecDocErr = payload.LoadFile(codecDocPath) })
	if codecDocErr != nil {
		t.Fatal(codecDocErr)
	}
	return codecDoc
}

// codecs under comparison: encoding/json is the reference.
var (
	refCodec  clio.Codec = clio.JSONCodec{}
	fastCodec clio.Codec = clio.FastCodec{}
)

// decodePath decodes data into v through one codec path.
type decodePath struct {
	name   string
	decode func(c clio.Codec, data []byte, v any) error
}

var decodePaths = []decodePath{
	{"unmarshal", func(c clio.Codec, data []byte, v any) error { return c.Unmarshal(data, v) }},
	{"stream", func(c clio.Codec, data []byte, v any) error {
		// iotest.OneByteReader-like small reads would be slower; a
		// bytes.Reader gives whatever the decoder asks for, as a body does.
		return c.NewDecoder(bytes.NewReader(data)).Decode(v)
	}},
}

// compareDecode decodes data with both codecs into fresh values from mk and
// reports a difference in the accept/reject decision or, when both accept,
// in the decoded values. It returns the reference error.
func compareDecode(t *testing.T, label string, data []byte, mk func() any) error {
	return compareDecodeStats(t, nil, label, data, mk)
}

// messageStats counts the rejected inputs whose error messages differ
// (go-json words some as encoding/json of Go 1.27 does: "Go struct field
// MatterList.data.0.id" where Go 1.26 says "Matter.data.id").
type messageStats struct {
	rejected, differ int
	example          string
}

func (s *messageStats) log(t *testing.T) {
	t.Helper()
	if s.rejected > 0 {
		t.Logf("%d decodes rejected by both, %d with another error message; e.g. %s", s.rejected, s.differ, s.example)
	}
}

func compareDecodeStats(t *testing.T, st *messageStats, label string, data []byte, mk func() any) error {
	t.Helper()
	var refErr error
	for _, p := range decodePaths {
		want, got := mk(), mk()
		errWant := p.decode(refCodec, data, want)
		errGot := p.decode(fastCodec, data, got)
		if p.name == "unmarshal" {
			refErr = errWant
		}
		if (errWant == nil) != (errGot == nil) {
			t.Errorf("%s (%s): encoding/json error %v, FastCodec error %v", label, p.name, errWant, errGot)
			continue
		}
		if errWant != nil {
			if st == nil {
				st = &messageStats{}
				defer st.log(t)
			}
			st.rejected++
			if errWant.Error() != errGot.Error() {
				st.differ++
				if st.example == "" {
					st.example = fmt.Sprintf("%s (%s):\n\tencoding/json: %v\n\tFastCodec:     %v", label, p.name, errWant, errGot)
				}
			}
			continue
		}
		if !reflect.DeepEqual(want, got) {
			t.Errorf("%s (%s): values differ\n%s", label, p.name, firstDiff(want, got))
		}
	}
	return refErr
}

// firstDiff shows where the JSON forms of two values part.
func firstDiff(a, b any) string {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	i := 0
	for i < len(ja) && i < len(jb) && ja[i] == jb[i] {
		i++
	}
	lo := max(0, i-120)
	if bytes.Equal(ja, jb) {
		return "\t(same JSON: the difference is in pointers, locations or nil vs empty)"
	}
	return fmt.Sprintf("\tencoding/json: …%.300s\n\tFastCodec:     …%.300s", ja[lo:], jb[lo:])
}

func modelsByKey(ms []payload.Model) map[string]payload.Model {
	out := make(map[string]payload.Model, len(ms))
	for _, m := range ms {
		out[m.Key()] = m
	}
	return out
}

func bodyKey(b payload.Body, status bool) string {
	if b.Schema != "" && status {
		return b.Schema
	}
	if !status {
		return b.Operation
	}
	return b.Operation + "/" + b.Status
}

// TestCodecDiffCoverage fails when a 200/201 JSON response or a JSON
// request body of the document has no entry in the model tables (run
// go generate ./internal/payload), or an entry's Go type is not the one
// oapi-codegen names for the schema.
func TestCodecDiffCoverage(t *testing.T) {
	d := loadCodecDoc(t)
	resp := modelsByKey(payload.ResponseModels)
	seen := map[string]bool{}
	for _, b := range d.Responses() {
		k := bodyKey(b, true)
		seen[k] = true
		m, ok := resp[k]
		if !ok {
			t.Errorf("%s %s (%s %s): no response model %q", b.Method, b.Path, b.Operation, b.Status, k)
			continue
		}
		if b.Schema != "" {
			if want := "gen." + codegen.SchemaNameToTypeName(b.Schema); m.GoType != want {
				t.Errorf("%s: Go type %s, oapi-codegen names it %s", k, m.GoType, want)
			}
			if got := reflect.TypeOf(m.New()).Elem().Name(); "gen."+got != m.GoType {
				t.Errorf("%s: New makes a %s, not %s", k, got, m.GoType)
			}
		}
	}
	for k := range resp {
		if !seen[k] {
			t.Errorf("response model %q is not in the document any more", k)
		}
	}
	reqs := modelsByKey(payload.RequestModels)
	for _, b := range d.RequestBodies() {
		m, ok := reqs[b.Operation]
		if !ok {
			t.Errorf("%s %s: no request body model for %s", b.Method, b.Path, b.Operation)
			continue
		}
		if want := "gen." + codegen.SchemaNameToTypeName(b.Operation) + "JSONRequestBody"; m.GoType != want {
			t.Errorf("%s: Go type %s, oapi-codegen names it %s", b.Operation, m.GoType, want)
		}
	}
	if len(payload.ResponseModels) < 100 || len(payload.RequestModels) < 50 {
		t.Fatalf("only %d response and %d request models", len(payload.ResponseModels), len(payload.RequestModels))
	}
	t.Logf("%d response models, %d request body models", len(payload.ResponseModels), len(payload.RequestModels))
}

// TestCodecDiffResponses: every response model, every payload variant, two
// seeds, through Unmarshal and the streaming Decoder.
func TestCodecDiffResponses(t *testing.T) {
	d := loadCodecDoc(t)
	models := modelsByKey(payload.ResponseModels)
	done := map[string]bool{}
	cases := 0
	var st messageStats
	defer st.log(t)
	for _, b := range d.Responses() {
		k := bodyKey(b, true)
		if done[k] {
			continue
		}
		done[k] = true
		m, ok := models[k]
		if !ok {
			continue // TestCodecDiffCoverage reports it
		}
		for _, v := range payload.Variants() {
			for _, seed := range []int{1, 2} {
				data := payload.Generate(b.Value, v, seed)
				refErr := compareDecodeStats(t, &st, fmt.Sprintf("%s/%s/%d", k, v, seed), data, m.New)
				cases++
				// Keep the payload generator honest: valid variants must
				// decode, invalid ones must fail, with encoding/json.
				// (A schema with no number or date has nothing to break:
				// its invalid variant is the full one.)
				if v.WantError() && refErr == nil && !bytes.Equal(data, payload.Generate(b.Value, payload.Full, seed)) {
					t.Errorf("%s/%s: encoding/json accepted an invalid payload", k, v)
				}
				if !v.WantError() && refErr != nil {
					t.Errorf("%s/%s: encoding/json rejected a valid payload: %v", k, v, refErr)
				}
			}
		}
	}
	t.Logf("%d model × variant × seed cases, each through Unmarshal and Decoder", cases)
}

// TestCodecDiffDecodeInto: decoding into a value that already holds a
// record (as the client's page buffers do) merges the same way.
func TestCodecDiffDecodeInto(t *testing.T) {
	d := loadCodecDoc(t)
	for _, name := range []string{"Matter_list", "Contact_show", "Activity_list", "Bill_show"} {
		first, _ := d.GenerateNamed(name, payload.Full, 1)
		for _, v := range []payload.Variant{payload.Full, payload.Nulls, payload.EmptyArrays, payload.CaseKeys, payload.NullObjects} {
			second, _ := d.GenerateNamed(name, v, 2)
			m := modelsByKey(payload.ResponseModels)[name]
			for _, p := range decodePaths {
				want, got := m.New(), m.New()
				if err := p.decode(refCodec, first, want); err != nil {
					t.Fatal(err)
				}
				if err := p.decode(fastCodec, first, got); err != nil {
					t.Fatal(err)
				}
				ew, eg := p.decode(refCodec, second, want), p.decode(fastCodec, second, got)
				if (ew == nil) != (eg == nil) || !reflect.DeepEqual(want, got) {
					t.Errorf("%s: %s over full (%s): errors %v / %v\n%s", name, v, p.name, ew, eg, firstDiff(want, got))
				}
			}
		}
	}
}

// TestCodecDiffPages: list pages of 20 fully populated records.
func TestCodecDiffPages(t *testing.T) {
	d := loadCodecDoc(t)
	models := modelsByKey(payload.ResponseModels)
	for _, name := range []string{"Matter_list", "Contact_list", "Activity_list", "Task_list", "Bill_list"} {
		data, err := d.Page(name, 20)
		if err != nil {
			t.Fatal(err)
		}
		if err := compareDecode(t, name+"/page20", data, models[name].New); err != nil {
			t.Fatal(err)
		}
	}
}

// codecEdgeCases are hand-written inputs for the corners where JSON
// decoders are known to part from encoding/json.
var codecEdgeCases = []string{
	`{"data":{"id":1.0}}`, `{"data":{"id":1e2}}`, `{"data":{"id":-0}}`, `{"data":{"id":"1"}}`, `{"data":{"id":true}}`,
	`{"data":{"id":9223372036854775807}}`, `{"data":{"id":9223372036854775808}}`, `{"data":{"id":-9223372036854775809}}`,
	`{"data":{"id":1e400}}`, `{"data":{"id":01}}`, `{"data":{"id":1,}}`, `{"data":{"id":NaN}}`, `{"data":{"id":1E+2}}`,
	`{} {}`, "\ufeff{}", ` {"data":{"id":1}} `, `{"data":{"id":1}`, `{"data":{"id":1}}}`, `null`, `[]`, `"s"`, `12`, ``, ` `,
	`{"data":null}`, `{"data":[]}`, `{"data":{}}`, `{"data":{"Data":{}}}`, `{"Data":{"id":1},"data":{"name":"x"}}`,
	`{"d\u0061ta":{"id":5}}`, `{"DATA":{"ID":5}}`, `{"data":{"ſtatus":"x"}}`, `{"data":{"ID":1,"ıd":2}}`, `{"data":{"\u212Aind":"x"}}`,
	`{"data":{"id":1,"id":null}}`, `{"data":{"id":1,"ID":2}}`, `{"data":{"name":"a","Name":null}}`,
	`{"data":{"company":{"id":1},"company":{"name":"n"}}}`, `{"data":{"company":{"id":1},"company":null}}`,
	`{"data":{"email_addresses":[{"id":1},{"id":2}],"email_addresses":[{"name":"x"}]}}`,
	`{"data":{"email_addresses":[{"id":1}],"email_addresses":null}}`, `{"data":{"email_addresses":{}}}`,
	`{"data":{"custom_field_values":[{"id":"1"},2]}}`, `{"data":{"id":"x","name":"y"}}`, `{"data":{"name":1,"first_name":"z"}}`,
	`{"data":{"is_client":"true"}}`, `{"data":{"is_client":1}}`, `{"data":{"is_client":null}}`,
	`{"data":{"first_name":"a\u0000b"}}`, "{\"data\":{\"first_name\":\"a\x01b\"}}", `{"data":{"first_name":"\x"}}`,
	`{"data":{"name":"\ud800"}}`, `{"data":{"etag":"\uDEAD\uBEEF"}}`, "{\"data\":{\"name\":\"\xff\"}}", `{"data":{"name":"\ud83d\ude00\u00e9\n\""}}`,
	"{\"data\":{\"n\xffame\":\"x\"}}", `{"data":{"name":"\u002"}}`, `{"data":{"name":"` + strings.Repeat("é", 300) + `"}}`,
	`{"data":{"created_at":"2019-08-24T14:15:22Z"}}`, `{"data":{"created_at":"2019-08-24T14:15:22+24:00"}}`,
	`{"data":{"created_at":"2019-08-24T14:15:22\u005a"}}`, `{"data":{"created_at":"2019-08-24"}}`, `{"data":{"created_at":1}}`,
	`{"data":{"created_at":"2019-08-24T14:15:22.1234567891Z"}}`, `{"data":{"created_at":"2019-08-24t14:15:22z"}}`,
	`{"data":{"created_at":" 2019-08-24T14:15:22Z"}}`, `{"data":{"created_at":null,"date_of_birth":null}}`,
	`{"data":{"date_of_birth":""}}`, `{"data":{"date_of_birth":"2019-08-2\u0034"}}`, `{"data":{"date_of_birth":"2019-08-24T00:00:00Z"}}`,
	`{"data":{"date_of_birth":20190824}}`, `{"data":{"date_of_birth":"2019-02-29"}}`, `{"data":{"date_of_birth":"0000-01-01"}}`,
	`{"data":{"x":[1,{"y":[]}],"id":3}}`, `{"data":{"x":[1,{"y":[}],"id":3}}`, `{"data":{"x":"\q","id":3}}`, `{"data":{"x":tru,"id":3}}`,
	strings.Repeat(`{"data":{"x":[`, 6000), strings.Repeat(`[`, 10001) + strings.Repeat(`]`, 10001),
	`{"meta":{"paging":{"next":"https://x/?page_token=a\u0026b"},"records":12},"data":[]}`, `{"meta":{"records":1.5},"data":[]}`,
	`{"data":[{"id":1},null,{"id":2}]}`, `{"data":[{"id":1},"x",{"id":2}]}`, `{"data":[{"id":1},]}`,
}

// TestCodecDiffEdgeCases: hand-written corners, into a single record and a
// list page, through both paths.
func TestCodecDiffEdgeCases(t *testing.T) {
	mks := []func() any{func() any { return new(gen.ContactShow) }, func() any { return new(gen.MatterList) }}
	var st messageStats
	defer st.log(t)
	for i, e := range codecEdgeCases {
		for _, mk := range mks {
			compareDecodeStats(t, &st, fmt.Sprintf("edge %d %T %.80q", i, mk(), e), []byte(e), mk)
		}
	}
}

// TestCodecDiffRequestBodies: every request body, filled from the payload
// variants (decoded by encoding/json), marshals to the same bytes.
func TestCodecDiffRequestBodies(t *testing.T) {
	d := loadCodecDoc(t)
	models := modelsByKey(payload.RequestModels)
	n := 0
	for _, b := range d.RequestBodies() {
		m, ok := models[b.Operation]
		if !ok {
			continue // TestCodecDiffCoverage reports it
		}
		check := func(label string, v any) {
			want, errWant := refCodec.Marshal(v)
			got, errGot := fastCodec.Marshal(v)
			n++
			if (errWant == nil) != (errGot == nil) || !bytes.Equal(want, got) {
				i := 0
				for i < len(want) && i < len(got) && want[i] == got[i] {
					i++
				}
				lo := max(0, i-80)
				t.Errorf("%s: marshal differs (errors %v / %v)\n\tencoding/json: …%.200s\n\tFastCodec:     …%.200s",
					label, errWant, errGot, want[min(lo, len(want)):], got[min(lo, len(got)):])
			}
		}
		check(b.Operation+"/zero", m.New())
		for _, v := range payload.Variants() {
			if v.WantError() {
				continue
			}
			x := m.New()
			if err := json.Unmarshal(payload.Generate(b.Value, v, 3), x); err != nil {
				t.Fatalf("%s/%s: %v", b.Operation, v, err)
			}
			check(b.Operation+"/"+v.String(), x)
		}
	}
	t.Logf("%d request body values marshalled", n)
}
