// Package replica keeps a copy of a Clio firm's data in step with Clio: one full pass per
// resource, then deltas, deletes from webhooks and from periodic id scans, written to a
// Sink together with a checkpoint so that a process killed at any instant resumes where
// it stopped, with no record lost and none applied twice.
//
// # Passes
//
// Every pass walks a collection with cursor pagination (order=id(asc), following
// meta.paging.next as given): cursor paging has no depth limit and, unlike offset paging
// (the only kind Clio offers for order=updated_at), does not shift when records change
// while it runs, so no record is skipped.
//
//   - The full pass lists every record with all the fields of the resource.
//   - A delta pass lists the records with updated_since set to the mark of the previous
//     pass minus an overlap (Engine.Overlap). The mark of a pass is Clio's clock (the Date
//     of the first page's answer) when the pass started: a record changed while the pass
//     ran, even behind the cursor, has an updated_at at or after it, and the overlap
//     covers clock skew and records updated within the same second. Records read twice
//     are upserted by id, so the overlap never duplicates anything.
//   - An id scan lists the collection with fields=id and marks as deleted every stored
//     record whose id is missing, page by page: it finds the deletes that happened while
//     no webhook was listening. It runs every Engine.ScanEvery.
//
// Deletes delivered by webhooks (package webhook) are applied with Engine.ApplyEvent.
// A deleted mark is final: Clio never reuses an id, so a page read before the delete
// cannot bring the record back.
//
// # Checkpoints
//
// Each page is handed to the Sink as one Batch: the records, the deletes and the
// checkpoint that covers them (the pass in progress, its next page URL, its mark). A Sink
// applies a Batch in one transaction, so the stored checkpoint always describes exactly
// the records stored. The sinks of packages replica/sqlitesink and replica/pgsink do.
//
// # Records
//
// Records are stored as the JSON Clio sent, byte for byte: no field is lost to a Go type
// that does not know it. The id, etag and updated_at are read from it for the columns
// that index it.
package replica
