package clio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"reflect"
	"sync"
	"sync/atomic"
	"time"
)

// The attempt timeouts (WithTimeouts, WithAttemptTimeout) cut off a silent server. They
// run on one coarse clock per Client, not on a timer per attempt: arming a runtime timer
// for every request, and resetting it on every read of a body, cost more than the rest of
// the pipeline together, since each new timer may wake the network poller. The clock
// looks at the attempts in flight every quarter of the shortest timeout, so a timeout
// ends an attempt between its length and one and a half times it, never earlier. Between
// looks, an attempt costs a map entry and an atomic add per read of its body; the header
// and attempt timeouts also cost a context per attempt, which is why NewClient leaves the
// header timeout to an *http.Transport when it can (client.go). The clock's timer is
// armed while attempts are in flight and lapses when a look finds none: no goroutine
// outlives the requests.

// clock watches the attempts in flight.
type clock struct {
	headerTO, stallTO, attemptTO time.Duration // 0: that timeout is off
	tick                         time.Duration
	epoch                        time.Time // the monotonic origin of the watches' instants

	mu      sync.Mutex
	watches map[*watch]struct{}
	timer   *time.Timer // armed while watches were seen at the last look
	armed   bool
}

// newClock returns the clock of a Client's timeouts, or nil when all of them are off.
func newClock(header, stall, attempt time.Duration) *clock {
	shortest := time.Duration(0)
	for _, d := range []time.Duration{header, stall, attempt} {
		if d > 0 && (shortest == 0 || d < shortest) {
			shortest = d
		}
	}
	if shortest == 0 {
		return nil
	}
	return &clock{headerTO: header, stallTO: stall, attemptTO: attempt,
		tick: max(shortest/4, time.Millisecond), epoch: time.Now(), watches: map[*watch]struct{}{}}
}

// since is the clock's instant for now.
func (k *clock) since() int64 { return int64(time.Since(k.epoch)) }

// Phases of a watched attempt.
const (
	phaseSending  int32 = iota // the request (body) is being written: no header timeout yet
	phaseAwaiting              // written: the header timeout runs
	phaseReading               // the headers are in: the stall timeout runs
	phaseDone                  // ended: nothing more to watch
)

// watch is one attempt on the clock, and once its headers are in, the body it watches:
// it counts the reads that bring data, names the timeout that closed the body, and takes
// the attempt off the clock on Close.
type watch struct {
	parent context.Context
	ctx    context.Context // the attempt's own context, cancelled with the timeout's cause
	cancel context.CancelCauseFunc
	k      *clock

	started  int64 // clock instants
	phase    atomic.Int32
	phaseAt  atomic.Int64 // when the header timeout began to run
	progress atomic.Int64 // reads that returned data
	stalled  atomic.Bool
	rc       io.ReadCloser // the body; set before the phase becomes phaseReading

	seen  int64 // the clock's own: progress at its last look, and since when
	since int64
}

// start puts an attempt of r on the clock and returns the request to send: r on the
// attempt's context, a child of parent. The header timeout counts from the end of the
// request body, so a slow upload is not taken for a silent server.
func (k *clock) start(parent context.Context, r *http.Request) (*http.Request, *watch) {
	w := &watch{parent: parent, ctx: parent, k: k, seen: -1}
	if k.headerTO == 0 && k.attemptTO == 0 {
		// Only the stall timeout, which closes the body: no context of its own, and
		// nothing on the clock before the headers are in.
		return onContext(r, parent), w
	}
	w.ctx, w.cancel = context.WithCancelCause(w.parent)
	now := k.since()
	w.started = now
	w.phaseAt.Store(now)
	ctx := w.ctx
	if r.Body != nil && r.Body != http.NoBody {
		w.phase.Store(phaseSending)
		ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
			WroteRequest: func(httptrace.WroteRequestInfo) {
				w.phaseAt.Store(k.since())
				w.phase.CompareAndSwap(phaseSending, phaseAwaiting)
			},
		})
	} else {
		w.phase.Store(phaseAwaiting)
	}
	k.add(w)
	return r.WithContext(ctx), w
}

// add puts w on the clock, and arms the clock's timer if it rests.
func (k *clock) add(w *watch) {
	k.mu.Lock()
	k.watches[w] = struct{}{}
	if !k.armed {
		k.armed = true
		if k.timer == nil {
			k.timer = time.AfterFunc(k.tick, k.look)
		} else {
			k.timer.Reset(k.tick)
		}
	}
	k.mu.Unlock()
}

// headersIn moves an attempt to its body, which is returned watched.
func (k *clock) headersIn(w *watch, body io.ReadCloser) io.ReadCloser {
	w.rc = body
	w.phase.Store(phaseReading)
	if w.cancel == nil { // stall timeout only: on the clock from now
		k.add(w)
	}
	return w
}

// end takes an attempt off the clock and releases its context.
func (k *clock) end(w *watch) {
	w.phase.Store(phaseDone)
	k.mu.Lock()
	delete(k.watches, w)
	k.mu.Unlock()
	if w.cancel != nil {
		w.cancel(nil)
	}
}

// look ends the attempts whose timeout has passed, and re-arms the clock while attempts
// remain.
func (k *clock) look() {
	now := k.since()
	var ended []*watch
	k.mu.Lock()
	for w := range k.watches {
		if why := k.overdue(w, now); why != nil {
			ended = append(ended, w)
			delete(k.watches, w)
			if w.cancel != nil {
				w.cancel(why)
			}
		}
	}
	if len(k.watches) > 0 {
		k.timer.Reset(k.tick)
	} else {
		k.armed = false
	}
	k.mu.Unlock()
	for _, w := range ended {
		if w.phase.Load() == phaseReading {
			w.rc.Close() // unblocks the Read in progress
		}
	}
}

// overdue says which timeout an attempt has run into, if any. Only look calls it, with
// the clock locked.
func (k *clock) overdue(w *watch, now int64) error {
	if k.attemptTO > 0 && now-w.started >= int64(k.attemptTO) {
		return errAttemptTimeout
	}
	switch w.phase.Load() {
	case phaseAwaiting:
		if k.headerTO > 0 && now-w.phaseAt.Load() >= int64(k.headerTO) {
			return errHeaderTimeout
		}
	case phaseReading:
		if k.stallTO == 0 {
			return nil
		}
		if p := w.progress.Load(); p != w.seen {
			// Data arrived since the last look, or this is the first look at the body:
			// the silence counts from now.
			w.since, w.seen = now, p
		}
		if now-w.since >= int64(k.stallTO) {
			w.stalled.Store(true)
			return errStallTimeout
		}
	}
	return nil
}

// failed says why an attempt whose round trip failed was ended, when one of the clock's
// timeouts ended it (and not the caller's context).
func (w *watch) failed(err error) error {
	if w.parent.Err() != nil {
		return err
	}
	return w.withCause(err)
}

// withCause names the clock's timeout in err when one cancelled the attempt's context and
// err does not name it already (net/http may return the cause itself).
func (w *watch) withCause(err error) error {
	why := context.Cause(w.ctx)
	if (errors.Is(why, errHeaderTimeout) || errors.Is(why, errAttemptTimeout)) && !errors.Is(err, why) {
		return fmt.Errorf("%w: %w", why, err)
	}
	return err
}

// Read reads the body and counts the reads that bring data.
func (w *watch) Read(p []byte) (int, error) {
	n, err := w.rc.Read(p)
	if n > 0 {
		w.progress.Add(1)
	}
	if err != nil && err != io.EOF { //nolint:errorlint // io.EOF is returned bare by readers
		if w.stalled.Load() {
			err = fmt.Errorf("%w: %w", errStallTimeout, err)
		} else {
			err = w.withCause(err) // a header timeout can land just as the headers arrive
		}
	}
	return n, err
}

// Close closes the body and takes the attempt off the clock.
func (w *watch) Close() error {
	err := w.rc.Close()
	w.k.end(w)
	return err
}

// onContext returns r on ctx, copying r only when it is on another context. Contexts are
// compared only when their type allows it: == on a context of a type that cannot be
// compared (a struct holding a slice) would panic.
func onContext(r *http.Request, ctx context.Context) *http.Request {
	have := r.Context()
	if t := reflect.TypeOf(have); t == reflect.TypeOf(ctx) && t.Comparable() && have == ctx {
		return r
	}
	return r.WithContext(ctx)
}
