#include "leasing/testing/in_process_leasing.h"

#include <utility>

#include "common/status_macros.h"
#include "common/testing/test_util.h"

namespace tributary::leasing::testing {

absl::StatusOr<std::unique_ptr<InProcessLeasing>> InProcessLeasing::Start(
    Clock& clock, const LeaseTableOptions& options) {
  std::unique_ptr<InProcessLeasing> leasing(new InProcessLeasing());
  leasing->clock_ = &clock;
  leasing->options_ = options;
  leasing->data_dir_ = tributary::testing::NewTempDir("leasing");
  ASSIGN_OR_RETURN(leasing->stack_, LeasingStack::Create(clock, leasing->data_dir_, options));
  ASSIGN_OR_RETURN(leasing->server_,
                   GrpcServer::Start("127.0.0.1:0", {&leasing->stack_->service()}));
  leasing->client_ = std::make_unique<LeasingClient>(MakeChannel(leasing->server_->address()));
  return leasing;
}

absl::Status InProcessLeasing::Restart() {
  const std::string address = server_->address();
  server_->Shutdown();
  server_.reset();
  stack_.reset();
  ASSIGN_OR_RETURN(stack_, LeasingStack::Create(*clock_, data_dir_, options_));
  ASSIGN_OR_RETURN(server_, GrpcServer::Start(address, {&stack_->service()}));
  return absl::OkStatus();
}

InProcessLeasing::~InProcessLeasing() {
  client_.reset();
  if (server_ != nullptr) server_->Shutdown();
}

}  // namespace tributary::leasing::testing
