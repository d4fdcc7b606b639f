package clio

import (
	"github.com/clio-go/clio-go/gen"

	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const benchSize = 256 << 20

// heapPeak samples the live-and-unswept heap (runtime/metrics, no
// stop-the-world) until stopped, and returns the peak.
type heapPeak struct {
	stop chan struct{}
	done sync.WaitGroup
	peak atomic.Uint64
}

func startHeapPeak() *heapPeak {
	runtime.GC()
	h := &heapPeak{stop: make(chan struct{})}
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	h.done.Go(func() {
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > h.peak.Load() {
				h.peak.Store(v)
			}
			select {
			case <-h.stop:
				return
			case <-t.C:
			}
		}
	})
	return h
}

func (h *heapPeak) end() float64 {
	close(h.stop)
	h.done.Wait()
	return float64(h.peak.Load()) / (1 << 20)
}

// BenchmarkUploadMultipart uploads a generated 256 MiB stream in 8 MiB
// parts to a storage host that discards the bytes: the engine with 4
// workers, and a plain sequence of PUTs of the same parts (one buffer,
// same announcement and completion requests) as the baseline.
//
// "loopback" storage is as fast as the CPU allows; "64MBps-per-conn" paces
// every PUT to 64 MB/s, closer to a remote object store where one
// connection does not fill the link and parallel parts pay off.
func BenchmarkUploadMultipart(b *testing.B) {
	for _, link := range []struct {
		name string
		bps  int64
	}{{"loopback", 0}, {"64MBps-per-conn", 64 << 20}} {
		b.Run(link.name, func(b *testing.B) { benchUpload(b, link.bps) })
	}
}

// benchStorage is a fake Clio whose storage discards the bytes, at bps per connection (0: as
// fast as loopback goes).
func benchStorage(b *testing.B, bps int64) (*fakeClio, *uploader) {
	f := newFakeClio(b)
	f.discard = true
	f.perConnBps = bps
	return f, f.uploader().u
}

func benchUpload(b *testing.B, bps int64) {
	for _, workers := range []int{1, 4} {
		b.Run(fmt.Sprintf("engine/workers=%d", workers), func(b *testing.B) {
			_, u := benchStorage(b, bps)
			b.SetBytes(benchSize)
			var peak float64
			for b.Loop() {
				h := startHeapPeak()
				_, _, err := u.upload(context.Background(), UploadParams{
					Parent: DocumentParent{ID: 1, Type: ParentMatter}, Name: "big.bin",
					Body: &patternReader{n: benchSize}, Size: benchSize,
					PartSize: defaultPartSize, Concurrency: workers,
				})
				peak = max(peak, h.end())
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(peak, "peak-heap-MB")
		})
	}
	b.Run("sequential-PUTs", func(b *testing.B) {
		f, u := benchStorage(b, bps)
		b.SetBytes(benchSize)
		var peak float64
		for b.Loop() {
			h := startHeapPeak()
			err := sequentialUpload(u, f.storage.Client(), &patternReader{n: benchSize}, benchSize, defaultPartSize)
			peak = max(peak, h.end())
			if err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(peak, "peak-heap-MB")
	})
}

// sequentialUpload is the naive baseline: announce the parts, then read and
// PUT them one after the other with plain net/http, then complete.
func sequentialUpload(u *uploader, hc *http.Client, r io.Reader, size, partSize int64) error {
	ctx := context.Background()
	n := int((size + partSize - 1) / partSize)
	m := &mpState{u: u, p: &UploadParams{Parent: DocumentParent{ID: 1, Type: ParentMatter}, Name: "big.bin"},
		targets: map[int]gen.MultipartBase{}}
	buf := make([]byte, partSize)
	for first := 1; first <= n; first += maxPartsPerRequest {
		var specs []gen.MultipartInput
		for k := first; k <= min(n, first+maxPartsPerRequest-1); k++ {
			specs = append(specs, partSpec(k, min(partSize, size-int64(k-1)*partSize), ""))
		}
		if err := m.request(ctx, specs); err != nil {
			return err
		}
	}
	for k := 1; k <= n; k++ {
		part := buf[:min(partSize, size-int64(k-1)*partSize)]
		if _, err := io.ReadFull(r, part); err != nil {
			return err
		}
		req, _ := http.NewRequest(http.MethodPut, m.targets[k].PutUrl, bytes.NewReader(part))
		req.Header.Set("Content-Length", fmt.Sprint(len(part)))
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("part %d: %s", k, resp.Status)
		}
	}
	_, err := u.complete(ctx, m.docID, m.uuid)
	return err
}
