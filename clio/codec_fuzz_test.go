package clio_test

import (
	"reflect"
	"testing"

	"github.com/clio-go/clio-go/gen"
)

// FuzzCodecAgreement feeds arbitrary bytes to encoding/json and FastCodec,
// through Unmarshal and through the streaming Decoder, into a list page and
// a single record: both must make the same accept/reject decision, and
// decode the same value when they accept.
//
// The seeds are small on purpose (short records with a field of each kind,
// and the hand-written edge cases): the
// fuzzer minimizes every new input it finds for up to -fuzzminimizetime (60s
// by default), and on inputs of a few KB that takes the whole run. The full
// payloads are the differential tests' business.
//
//	go test -run '^$' -fuzz FuzzCodecAgreement -fuzztime 60s ./clio/
func FuzzCodecAgreement(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	for _, e := range codecEdgeCases {
		if len(e) <= 512 {
			f.Add([]byte(e))
		}
	}
	mks := []func() any{func() any { return new(gen.MatterList) }, func() any { return new(gen.ContactShow) }}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, mk := range mks {
			for _, p := range decodePaths {
				want, got := mk(), mk()
				errWant := p.decode(refCodec, data, want)
				errGot := p.decode(fastCodec, data, got)
				if (errWant == nil) != (errGot == nil) {
					t.Fatalf("%T (%s): encoding/json error %v, FastCodec error %v\ninput %q", want, p.name, errWant, errGot, data)
				}
				if errWant == nil && !reflect.DeepEqual(want, got) {
					t.Fatalf("%T (%s): values differ\n%s\ninput %q", want, p.name, firstDiff(want, got), data)
				}
			}
		}
	})
}

var fuzzSeeds = []string{
	`{"data":[{"id":1,"display_number":"00001-x","open_date":"2019-08-24","created_at":"2019-08-24T14:15:22Z",` +
		`"billable":true,"client":{"id":2,"name":"caf\u00e9 \ud83d\ude00"},"custom_field_values":[{"id":"a","value":"v"}],` +
		`"matter_budget":{"budget":1.5,"id":9007199254740993}}],"meta":{"paging":{"next":"https://x/?page_token=a"},"records":1}}`,
	`{"data":{"id":4611686018427387904,"first_name":"A\n\"b\"","date_of_birth":"2019-08-24","is_client":false,` +
		`"updated_at":"2019-08-24T14:15:22.123-07:00","email_addresses":[],"company":null,"X_UNKNOWN":[1,{"a":null}]}}`,
	`{"DATA":[{"ID":1,"Id":2,"status":"Open","status":null}],"meta":{"records":9223372036854775807}}`,
}
