// tribctl redrive (issue 23): puts the failed records that on-failure records carry
// (destination_config.on_failure.include_records, poller/processing/failure_record.h) back into
// a stream, keeping their partition keys, in the order of the failure stream's shards.
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
// Errors: NOT_FOUND (a stream), the store's errors; INVALID_ARGUMENT (usage) for a missing or
// bad flag; FAILED_PRECONDITION when the state file cannot be read or written; a failure record
// that is not JSON is counted as unreadable, not redriven, and does not stop the run.
#ifndef TRIBUTARY_TOOLS_TRIBCTL_REDRIVE_H_
#define TRIBUTARY_TOOLS_TRIBCTL_REDRIVE_H_

#include "absl/status/status.h"
#include "tools/tribctl/context.h"

namespace tributary::tribctl {

absl::Status Redrive(Context& c);

}  // namespace tributary::tribctl

#endif  // TRIBUTARY_TOOLS_TRIBCTL_REDRIVE_H_
