#include "aws/aws_flags.h"

#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "aws/sigv4_verifier.h"
#include "common/host_port.h"
#include "common/security_flags.h"
#include "common/server_main.h"
#include "gflags/gflags.h"
#include "glog/logging.h"

DEFINE_string(aws_listen, "",
              "host:port of the AWS front door: the Kinesis API and Lambda's event-source-mapping "
              "API over HTTP, as AWS SDKs and the AWS CLI speak them (127.0.0.1:4566 is "
              "LocalStack's port; 0 = any). Empty: off.");
DEFINE_string(aws_region, "us-east-1", "The region in the AWS front door's ARNs.");
DEFINE_string(aws_account_id, "000000000000",
              "The account id (12 digits) in the AWS front door's ARNs.");
DEFINE_string(aws_credentials_file, "",
              "Verify the AWS front door's SigV4 signatures against this file (the AWS CLI's "
              "shared-credentials format: [principal] sections with aws_access_key_id and "
              "aws_secret_access_key). Empty: accept any well-formed signature.");
DEFINE_int32(aws_max_pending_requests, 256,
             "Admission control of the AWS front door: requests in progress (read, waiting, "
             "running or being answered) beyond which a new one is refused at once with the "
             "API's throttling error.");
DEFINE_int64(aws_max_pending_bytes, 512 << 20,
             "Admission control of the AWS front door: request body bytes in progress beyond "
             "which a new request is refused at once (bounds the memory requests pin).");
DEFINE_string(aws_port_file, "", "After binding --aws_listen, write the bound port to this file.");

namespace tributary::aws {

absl::Status CheckAwsFlags() {
  if (absl::Status s = CheckAddressFlags(
          {{"aws_listen", FLAGS_aws_listen, AddressUse::kListen, /*empty_means_off=*/true}});
      !s.ok()) {
    return s;
  }
  bool region_ok = !FLAGS_aws_region.empty();
  for (char c : FLAGS_aws_region) {
    region_ok = region_ok && (absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '-');
  }
  if (!region_ok) {
    return absl::InvalidArgumentError(absl::StrCat("--aws_region=\"", FLAGS_aws_region,
                                                   "\": expected a region such as us-east-1"));
  }
  bool account_ok = FLAGS_aws_account_id.size() == 12;
  for (char c : FLAGS_aws_account_id) account_ok = account_ok && absl::ascii_isdigit(c);
  if (!account_ok) {
    return absl::InvalidArgumentError(
        absl::StrCat("--aws_account_id=\"", FLAGS_aws_account_id, "\": expected 12 digits"));
  }
  if (FLAGS_aws_max_pending_requests < 1 || FLAGS_aws_max_pending_bytes < 1) {
    return absl::InvalidArgumentError(
        "--aws_max_pending_requests and --aws_max_pending_bytes must be at least 1");
  }
  // TLS as every port of the process has it (common/security_flags.h): plaintext off loopback
  // needs --allow_insecure.
  if (absl::Status s = CheckSecurityFlags({{"aws_listen", FLAGS_aws_listen}}); !s.ok()) return s;
  if (!FLAGS_aws_credentials_file.empty()) {
    if (absl::Status s = ReadAwsCredentialsFile(FLAGS_aws_credentials_file).status(); !s.ok()) {
      return absl::Status(s.code(), absl::StrCat("--aws_credentials_file: ", s.message()));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<AwsServer>> StartAwsServerFromFlags(
    shard_store::ShardStore& store, shard_store::StreamsService* streams,
    stream_tracker::StreamTrackerClient* tracker, tables::TableStore* tables) {
  if (FLAGS_aws_listen.empty()) return std::unique_ptr<AwsServer>();
  AwsServerOptions options;
  options.listen_address = FLAGS_aws_listen;
  options.kinesis.region = FLAGS_aws_region;
  options.kinesis.account_id = FLAGS_aws_account_id;
  options.http.max_pending_requests = FLAGS_aws_max_pending_requests;
  options.http.max_pending_bytes = static_cast<uint64_t>(FLAGS_aws_max_pending_bytes);
  // HTTPS with the process's certificate (HTTP/2 by ALPN). With --tls_client_ca a client
  // certificate is verified when presented but not required: SigV4 authenticates callers here.
  const GrpcServerSecurity security = ServerSecurityFromFlags();
  options.http.tls.cert_file = security.cert_file;
  options.http.tls.key_file = security.key_file;
  options.http.tls.client_ca_file = security.client_ca_file;
  // The gRPC servers' policy and audit log hold on this port too (aws_authz.h).
  options.policy_file = security.policy_file;
  options.audit_log = security.audit_log;
  // One memory budget per process (--memory_budget_mb): the store's service holds it.
  if (streams != nullptr) options.http.memory_budget = streams->memory_budget();
  if (!FLAGS_aws_credentials_file.empty()) {
    absl::StatusOr<std::vector<AwsCredential>> credentials =
        ReadAwsCredentialsFile(FLAGS_aws_credentials_file);
    if (!credentials.ok()) {
      return absl::Status(credentials.status().code(),
                          absl::StrCat("--aws_credentials_file: ", credentials.status().message()));
    }
    options.credentials = *std::move(credentials);
  }
  absl::StatusOr<std::unique_ptr<AwsServer>> server =
      AwsServer::Start(options, store, streams, tracker, tables);
  if (!server.ok()) {
    return absl::Status(server.status().code(), absl::StrCat("--aws_listen=", FLAGS_aws_listen,
                                                             ": ", server.status().message()));
  }
  if (!FLAGS_aws_port_file.empty()) {
    if (absl::Status s = WritePortFile(FLAGS_aws_port_file, (*server)->port()); !s.ok()) return s;
  }
  LOG(INFO) << "AWS front door (Kinesis API; DynamoDB API "
            << (tables != nullptr ? "served" : "not served") << "; Lambda's API "
            << (tracker != nullptr ? "served" : "not served: no stream tracker") << ") on port "
            << (*server)->port() << " (" << (security.tls() ? "HTTPS" : "plaintext HTTP") << ", "
            << FLAGS_aws_region << ", account " << FLAGS_aws_account_id << "; signatures "
            << (options.credentials.empty()
                    ? "accepted unverified"
                    : absl::StrCat("verified against ", options.credentials.size(),
                                   " credentials from ", FLAGS_aws_credentials_file))
            << (options.policy_file.empty() ? "; every call allowed"
                                            : absl::StrCat("; authorized by ", options.policy_file))
            << ")";
  return server;
}

}  // namespace tributary::aws
