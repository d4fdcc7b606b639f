package riverreplica_test

import (
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/clio-go/clio-go/contrib/river/riverreplica"
)

// CappedRetry doubles the wait with each failure, adds at most a tenth, and never waits
// longer than MaxRetryDelay and its tenth.
func TestCappedRetryDoublesUpToItsCap(t *testing.T) {
	for errs, want := range map[int]time.Duration{0: 2 * time.Second, 1: 4 * time.Second, 3: 16 * time.Second, 7: 256 * time.Second, 8: riverreplica.MaxRetryDelay, 40: riverreplica.MaxRetryDelay} {
		job := &rivertype.JobRow{Errors: make([]rivertype.AttemptError, errs)}
		for range 20 {
			got := time.Until(riverreplica.CappedRetry{}.NextRetry(job))
			if got < want-time.Second || got > want+want/10+time.Second {
				t.Fatalf("after %d failures the job waits %s, want %s to %s", errs+1, got, want, want+want/10)
			}
		}
	}
}
