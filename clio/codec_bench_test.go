package clio_test

// Decoding benchmarks on generated, fully populated list pages:
//
//	go test -run '^$' -bench 'Codec' -benchmem ./clio/
//
// BenchmarkCodecDecode compares encoding/json (JSONCodec) and FastCodec, by
// Unmarshal of the whole page and by the streaming Decoder the client uses,
// with a floor that only scans the bytes (json.Valid). BenchmarkCodecPeakHeap
// reports the peak heap of one page decode from a stream, and
// BenchmarkCodecEndToEnd the full client stack against net/http + the codec
// over loopback.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/clio-go/clio-go/clio"
	"github.com/clio-go/clio-go/gen"
)

type benchPage struct {
	schema string
	n      int
	data   []byte
	new    func() any
}

var (
	benchPagesOnce sync.Once
	benchPages     []benchPage
)

func loadBenchPages(b *testing.B) []benchPage {
	d := loadCodecDoc(b)
	benchPagesOnce.Do(func() {
		for _, s := range []struct {
			name string
			new  func() any
		}{
			{"Matter_list", func() any { return new(gen.MatterList) }},
			{"Contact_list", func() any { return new(gen.ContactList) }},
		} {
			for _, n := range []int{20, 200} {
				data, err := d.Page(s.name, n)
				if err != nil {
					panic(err)
				}
				benchPages = append(benchPages, benchPage{s.name, n, data, s.new})
			}
		}
	})
	return benchPages
}

// perRecord runs f b.N times and reports ns/record and allocs/record.
func perRecord(b *testing.B, p benchPage, f func() error) {
	b.SetBytes(int64(len(p.data)))
	b.ReportAllocs()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	b.ResetTimer()
	for b.Loop() {
		if err := f(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&m1)
	recs := float64(b.N) * float64(p.n)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/recs, "ns/record")
	b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/recs, "allocs/record")
}

func BenchmarkCodecDecode(b *testing.B) {
	for _, p := range loadBenchPages(b) {
		name := fmt.Sprintf("%s/%d", p.schema, p.n)
		for _, c := range []struct {
			name  string
			codec clio.Codec
		}{{"json", clio.JSONCodec{}}, {"fast", clio.FastCodec{}}} {
			b.Run(name+"/"+c.name+"-unmarshal", func(b *testing.B) {
				perRecord(b, p, func() error { return c.codec.Unmarshal(p.data, p.new()) })
			})
			b.Run(name+"/"+c.name+"-stream", func(b *testing.B) {
				perRecord(b, p, func() error { return c.codec.NewDecoder(bytes.NewReader(p.data)).Decode(p.new()) })
			})
		}
		b.Run(name+"/floor-valid", func(b *testing.B) {
			perRecord(b, p, func() error {
				if !json.Valid(p.data) {
					return fmt.Errorf("invalid page")
				}
				return nil
			})
		})
	}
}

// heapBytes is the heap held by objects, live or not yet swept.
func heapBytes(s []metrics.Sample) uint64 {
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// peakHeap runs f with the GC kept tight (GOGC=10, so garbage goes soon
// and the peak approaches the live peak) while a goroutine samples the heap;
// it returns the peak above the heap before f, and the heap that the value
// f returns still holds after a GC.
func peakHeap(f func() any) (peak, kept uint64) {
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	runtime.GC()
	base := heapBytes(s)
	var max atomic.Uint64
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		for {
			if v := heapBytes(s); v > max.Load() {
				max.Store(v)
			}
			select {
			case <-stop:
				close(done)
				return
			default:
				runtime.Gosched()
			}
		}
	}()
	v := f()
	close(stop)
	<-done
	runtime.GC()
	after := heapBytes(s)
	runtime.KeepAlive(v)
	return max.Load() - min(base, max.Load()), after - min(base, after)
}

// BenchmarkCodecPeakHeap: the peak heap of decoding one 200-record page
// from a stream, against the heap its decoded records keep. "readall" reads
// the body whole first (what a non-streaming decoder needs), for scale.
func BenchmarkCodecPeakHeap(b *testing.B) {
	for _, p := range loadBenchPages(b) {
		if p.n != 200 {
			continue
		}
		for _, c := range []struct {
			name string
			f    func(r io.Reader, v any) error
		}{
			{"json-stream", func(r io.Reader, v any) error { return clio.JSONCodec{}.NewDecoder(r).Decode(v) }},
			{"fast-stream", func(r io.Reader, v any) error { return clio.FastCodec{}.NewDecoder(r).Decode(v) }},
			{"fast-readall-unmarshal", func(r io.Reader, v any) error {
				data, err := io.ReadAll(r)
				if err != nil {
					return err
				}
				return clio.FastCodec{}.Unmarshal(data, v)
			}},
		} {
			b.Run(p.schema+"/"+c.name, func(b *testing.B) {
				var peak, kept uint64
				for b.Loop() {
					pk, kp := peakHeap(func() any {
						v := p.new()
						// A reader that hides bytes.Reader's WriteTo, as a body does.
						if err := c.f(struct{ io.Reader }{bytes.NewReader(p.data)}, v); err != nil {
							b.Fatal(err)
						}
						return v
					})
					peak, kept = max(peak, pk), max(kept, kp)
				}
				b.ReportMetric(float64(peak)/(1<<20), "peak-MB/page")
				b.ReportMetric(float64(kept)/(1<<20), "records-MB/page")
				b.ReportMetric(float64(peak-min(kept, peak))/(1<<20), "overhead-MB/page")
				b.ReportMetric(float64(len(p.data))/(1<<20), "body-MB/page")
			})
		}
	}
}

// BenchmarkCodecEndToEnd: one 20- or 200-matter page over loopback httptest, through
// the full client stack (clio.ListPage over the generated client: editors,
// retry and transport wrappers, error checks, bodyReader) against plain
// net/http + the same codec. The rate limiter is off: it would only sleep.
func BenchmarkCodecEndToEnd(b *testing.B) {
	for _, n := range []int{20, 200} {
		b.Run(fmt.Sprintf("matters=%d", n), func(b *testing.B) { benchEndToEnd(b, n) })
	}
}

func benchEndToEnd(b *testing.B, n int) {
	var page []byte
	for _, p := range loadBenchPages(b) {
		if p.schema == "Matter_list" && p.n == n {
			page = p.data
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(page)
	}))
	defer srv.Close()
	ctx := context.Background()
	for _, c := range []struct {
		name  string
		codec clio.Codec
	}{{"fast", clio.FastCodec{}}, {"json", clio.JSONCodec{}}} {
		b.Run(c.name+"/nethttp", func(b *testing.B) {
			hc := srv.Client()
			b.SetBytes(int64(len(page)))
			b.ReportAllocs()
			for b.Loop() {
				resp, err := hc.Get(srv.URL + "/api/v4/matters.json")
				if err != nil {
					b.Fatal(err)
				}
				var v gen.MatterList
				err = c.codec.NewDecoder(resp.Body).Decode(&v)
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if err != nil || len(v.Data) != n {
					b.Fatal(err, len(v.Data))
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/record")
		})
		b.Run(c.name+"/client", func(b *testing.B) {
			cl, err := clio.NewClient(ctx, clio.WithBaseURL(srv.URL), clio.WithToken("bench"),
				clio.WithHTTPClient(srv.Client()), clio.WithCodec(c.codec), clio.WithoutRateLimiter())
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(page)))
			b.ReportAllocs()
			for b.Loop() {
				req := clio.NewRequest(gen.NewListMattersRequest(cl.BaseURL(), &gen.ListMattersParams{}))
				recs, _, err := clio.ListPage[gen.Matter](ctx, cl, req)
				if err != nil || len(recs) != n {
					b.Fatal(err, len(recs))
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/record")
		})
	}
}
