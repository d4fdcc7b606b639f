// Package riverreplica keeps thousands of Clio firms in step from any number of machines,
// with River (github.com/riverqueue/river) jobs on PostgreSQL and the engine of package
// replica. It lives in a module of its own so that the library's users do not inherit
// River's dependencies.
//
//   - One job per firm and resource (unique by its arguments) applies one page: the
//     records, the checkpoint and the job for the next page commit in one transaction,
//     with the current job's completion, so a killed worker loses nothing and repeats
//     nothing.
//   - A 429 snoozes the job until Clio's window resets: it is not a failure and spends
//     no attempt.
//   - A periodic job starts a pass of every firm and resource (a delta, or an id scan
//     when one is due); a firm whose chain is still running is skipped by uniqueness.
//     Another, daily, renews every firm's webhooks before Clio lets them expire.
//   - Tokens live in PostgreSQL. A refresh takes the firm's row lock, so across all the
//     workers one refresh runs at a time, and the rotated refresh token is committed
//     before the new access token is used.
package riverreplica
