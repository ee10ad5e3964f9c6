// The AWS front door's flags, shared by every binary that serves it (`tributary serve`,
// shard_store_server), so that each main only checks them and starts the server:
//
//   --aws_listen=HOST:PORT   serve the AWS APIs there (127.0.0.1:4566 is LocalStack's port);
//                            empty (the default): off
//   --aws_region=us-east-1   the region in ARNs
//   --aws_account_id=000000000000   the account in ARNs (12 digits)
//   --aws_port_file=PATH     after binding, write the port there (for --aws_listen=HOST:0)
//   --aws_max_pending_requests=256, --aws_max_pending_bytes=536870912   admission control
//                            (http_server.h): past either, a request is refused at once
//   --aws_credentials_file=PATH   verify SigV4 signatures against these credentials (the AWS
//                            CLI's shared-credentials format, sigv4_verifier.h); empty (the
//                            default): accept any well-formed signature
// and, from common/security_flags.h, --tls_cert / --tls_key (HTTPS, HTTP/2 by ALPN),
// --tls_client_ca (a client certificate, when presented, must chain to it) and --allow_insecure.
#ifndef TRIBUTARY_AWS_AWS_FLAGS_H_
#define TRIBUTARY_AWS_AWS_FLAGS_H_

#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "aws/aws_server.h"
#include "shard_store/shard_store.h"
#include "stream_tracker/stream_tracker_client.h"
#include "tables/table_store.h"

namespace tributary::aws {

// Checks the flags before anything is opened. Errors: INVALID_ARGUMENT naming the flag — a bad
// --aws_listen (as common/host_port.h's CheckAddressFlags says), a region that is not
// lower-case letters, digits and '-', an account id that is not 12 digits, a credentials file
// that cannot be read or parsed.
absl::Status CheckAwsFlags();

// Starts the front door over `store` as the flags say, and writes --aws_port_file. Returns
// nullptr when --aws_listen is empty. Errors: as AwsServer::Start; INTERNAL when the port file
// cannot be written.
// `streams` serves SubscribeToShard and `tracker` Lambda's REST API (AwsServer::Start; each may
// be null); `tables` the DynamoDB API (null: not served).
absl::StatusOr<std::unique_ptr<AwsServer>> StartAwsServerFromFlags(
    shard_store::ShardStore& store, shard_store::StreamsService* streams,
    stream_tracker::StreamTrackerClient* tracker, tables::TableStore* tables = nullptr);

}  // namespace tributary::aws

#endif  // TRIBUTARY_AWS_AWS_FLAGS_H_
