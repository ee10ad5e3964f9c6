// tribctl redrive (issue 23): puts the failed records that on-failure records carry
// (destination_config.on_failure.include_records, poller/processing/failure_record.h) back into
// a stream, keeping their partition keys, in the order of the failure stream's shards; or
// invokes a function with them directly (--to-function, below).
//
//   tribctl redrive --source-stream FAILURES --to-stream S
//       [--from-sequence-number N] [--to-sequence-number N]   the failed records' own (the
//       [--from-timestamp T] [--to-timestamp T]               source stream's), inclusive; and
//                                                             their arrival times, inclusive
//       [--dry-run] [--state-file PATH]
//
// Each shard of FAILURES is read from its start (TRIM_HORIZON) or from after the position the
// state file keeps for it; every failure record's "records" entries within the ranges are put
// with PutRecord, one at a time, in order. Progress goes to stderr (a line per shard and every
// 100 records), the summary to stdout (or JSON with --output=json): failure records read,
// records redriven, skipped by the ranges, already redriven, without data ("dataOmitted"), and
// failure records that carry no records (include_records was off).
//
// Idempotent on a re-run: the state file (default `tribctl-redrive.<FAILURES>.<S>.state` in
// the working directory; one line per shard: `<shard id> <failure record's sequence number>
// <entries of it done>`) is rewritten (write + rename) after every record put, so a re-run —
// also after a crash or Ctrl-C — skips what was put; at most the one record being put when
// the process died is put twice (PutRecord is not idempotent: at least once). A file rather than
// a stream tag: it costs the store nothing, needs no write access to FAILURES, and the same
// failures can be redriven to two targets independently. --dry-run reads and counts only: it
// neither puts nor moves the state.
//
// --to-function NAME|ENDPOINT (instead of --to-stream): each failure record (each part, with
// include_records) becomes one invocation of the function — a registered function by name or
// ARN (its endpoint and timeout, from the tracker), or an endpoint as a mapping takes it — with
// the records it names that are within the ranges, in the event the mapping's poller sends: the
// tributary.v1.InvokeRequest for a gRPC function, Lambda's Kinesis event (or, for a table's
// change stream, its DynamoDB Streams event) for an http(s):// one (poller/invoke/, the same
// code). The records are the failure record's "records" when it carries them; otherwise (and
// for an entry written with "dataOmitted") they are read from the source stream by the recorded
// shard and sequence range while it retains them — the stream is the batch info's streamName,
// or --records-stream (a DynamoDB record names none: give the mapping's stream). Records no
// longer in the source stream are counted (notFoundInSource), not invoked. A function error, a
// failed call or batch item failures stop the run (ABORTED) before the state moves past that
// failure record, so a re-run invokes it again; a failure record whose invocation succeeded is
// skipped on a re-run (the state file's line for the shard says `<seq> 1`: a failure record is
// done whole). A crash between a successful invocation and the state write invokes that one
// failure record again (at least once). --dry-run counts the invocations it would make.
// Progress: a line on stderr at the first and every tenth invocation; the summary adds
// invocations, fetchedFromSource, notFoundInSource and function (the endpoint).
//
// Errors: NOT_FOUND (a stream, the function), the store's errors; INVALID_ARGUMENT (usage) for a
// missing or bad flag (neither or both of --to-stream and --to-function); INVALID_ARGUMENT for a
// failure record that names no source stream (a DynamoDB one without --records-stream); ABORTED
// when the function failed (above); FAILED_PRECONDITION when the state file cannot be read or written; a failure record
// that is not JSON is counted as unreadable, not redriven, and does not stop the run.
#ifndef TRIBUTARY_TOOLS_TRIBCTL_REDRIVE_H_
#define TRIBUTARY_TOOLS_TRIBCTL_REDRIVE_H_

#include "absl/status/status.h"
#include "tools/tribctl/context.h"

namespace tributary::tribctl {

absl::Status Redrive(Context& c);

}  // namespace tributary::tribctl

#endif  // TRIBUTARY_TOOLS_TRIBCTL_REDRIVE_H_
