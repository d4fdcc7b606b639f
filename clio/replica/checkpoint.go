package replica

import "time"

// Pass is the kind of walk over a collection a checkpoint is in.
type Pass string

// The passes, in the order a resource goes through them.
const (
	PassNone  Pass = ""      // between passes
	PassFull  Pass = "full"  // every record with every field
	PassDelta Pass = "delta" // records updated since the last mark
	PassScan  Pass = "scan"  // ids only, to find deletes
)

// Checkpoint is where a firm's resource stands. It is stored by the Sink in the same
// transaction as the page it covers.
type Checkpoint struct {
	// Pass is the pass in progress, PassNone between passes.
	Pass Pass `json:"pass,omitempty"`
	// Next is the URL of the next page of the pass in progress, as Clio gave it.
	Next string `json:"next,omitempty"`
	// Mark is Clio's clock when the pass in progress started; it becomes Since when the
	// pass completes (full and delta passes).
	Mark time.Time `json:"mark,omitzero"`
	// Synced is true once a full pass has completed.
	Synced bool `json:"synced,omitempty"`
	// Since is the mark of the last completed full or delta pass: the next delta asks for
	// records updated since it, minus the overlap.
	Since time.Time `json:"since,omitzero"`
	// ScanAfter is the last id the scan in progress covered.
	ScanAfter int64 `json:"scan_after,omitempty"`
	// ScannedAt is when the last id scan completed (the engine's clock).
	ScannedAt time.Time `json:"scanned_at,omitzero"`
}
