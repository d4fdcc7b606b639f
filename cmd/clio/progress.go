package main

import (
	"fmt"
	"io"
	"os"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/clio-go/clio-go/clio/replica"
)

// progress shows the engine's reports: a bar per pass on a terminal, a line per pass
// otherwise.
type progress struct {
	w     io.Writer
	mode  string
	bar   *progressbar.ProgressBar
	cur   string // resource and pass of the bar or line in progress
	last  replica.Progress
	waits int64
}

func newProgress(mode string, w io.Writer) (*progress, error) {
	switch mode {
	case "auto":
		mode = "lines"
		if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			mode = "bars"
		}
	case "bars", "lines", "none":
	default:
		return nil, fmt.Errorf("--progress %q: want bars, lines, none or auto", mode)
	}
	return &progress{w: w, mode: mode}, nil
}

// progressHook, when set, runs after every report (tests stop a sync part way with it).
var progressHook func()

func (p *progress) update(r replica.Progress) {
	if progressHook != nil {
		defer progressHook()
	}
	key := r.Resource + " " + string(r.Pass)
	if key != p.cur {
		p.finish()
		p.cur = key
		if p.mode == "bars" {
			p.bar = progressbar.NewOptions64(int64(r.Total),
				progressbar.OptionSetWriter(p.w),
				progressbar.OptionSetDescription(fmt.Sprintf("%-18s %-5s", r.Resource, r.Pass)),
				progressbar.OptionShowCount(),
				progressbar.OptionSetWidth(30),
				progressbar.OptionThrottle(100_000_000),
				progressbar.OptionOnCompletion(func() { fmt.Fprintln(p.w) }))
		}
	}
	p.last = r
	if p.bar != nil {
		if int64(r.Total) > p.bar.GetMax64() {
			p.bar.ChangeMax64(int64(r.Total))
		}
		_ = p.bar.Set64(r.Records)
	}
	if r.RateLimitWaits > p.waits && p.mode != "none" {
		fmt.Fprintf(p.w, "\nrate limited: %d waits so far (%s), the sync goes on when Clio's window resets\n", r.RateLimitWaits, r.RateLimitWaited)
		p.waits = r.RateLimitWaits
	}
	if r.Done {
		p.finish()
	}
}

// finish ends the bar or line of the pass in progress.
func (p *progress) finish() {
	if p.cur == "" {
		return
	}
	r := p.last
	switch {
	case p.bar != nil:
		_ = p.bar.Finish()
		p.bar = nil
	case p.mode == "lines":
		state := "done"
		if !r.Done {
			state = "stopped"
		}
		fmt.Fprintf(p.w, "%-18s %-5s pass %s: %d records in %d pages\n", r.Resource, r.Pass, state, r.Records, r.Pages)
	}
	p.cur = ""
}
