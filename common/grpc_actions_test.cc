#include "common/grpc_actions.h"

#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "gtest/gtest.h"
#include "proto/clock.pb.h"
#include "proto/event_source_mappings.pb.h"
#include "proto/function.pb.h"
#include "proto/functions.pb.h"
#include "proto/leasing.pb.h"
#include "proto/poller.pb.h"
#include "proto/shard_checkpoints.pb.h"
#include "proto/streams.pb.h"
#include "proto/tables.pb.h"

namespace tributary {
namespace {

// One message of each .proto file that declares a service; a new .proto with a service is
// added here (and its methods to the table).
std::vector<const google::protobuf::FileDescriptor*> ServiceFiles() {
  return {v1::CreateStreamRequest::descriptor()->file(),
          v1::CreateEventSourceMappingRequest::descriptor()->file(),
          v1::CreateFunctionRequest::descriptor()->file(),
          v1::InvokeRequest::descriptor()->file(),
          v1::HeartbeatRequest::descriptor()->file(),
          v1::GetMetricsRequest::descriptor()->file(),
          v1::CreateTableRequest::descriptor()->file(),
          google::protobuf::DescriptorPool::generated_pool()
              ->FindServiceByName("tributary.v1.ShardCheckpoints")
              ->file(),
          v1::AdvanceClockRequest::descriptor()->file()};
}

TEST(GrpcActionsTest, EveryMethodOfEveryServiceHasAnEntry) {
  int methods = 0;
  for (const auto* file : ServiceFiles()) {
    for (int s = 0; s < file->service_count(); ++s) {
      const auto* service = file->service(s);
      for (int m = 0; m < service->method_count(); ++m) {
        const std::string path =
            absl::StrCat("/", service->full_name(), "/", service->method(m)->name());
        EXPECT_NE(FindRpcAction(path), nullptr) << path << " has no action in grpc_actions.cc";
        ++methods;
      }
    }
  }
  EXPECT_EQ(methods, static_cast<int>(AllRpcActions().size()))
      << "the table holds entries for methods the protos do not declare";
}

TEST(GrpcActionsTest, EveryResourceFieldIsAStringFieldOfTheRequest) {
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  for (const RpcAction& action : AllRpcActions()) {
    const std::string path(action.method);
    const size_t slash = path.rfind('/');
    const auto* service = pool->FindServiceByName(path.substr(1, slash - 1));
    ASSERT_NE(service, nullptr) << path;
    const auto* method = service->FindMethodByName(path.substr(slash + 1));
    ASSERT_NE(method, nullptr) << path;
    if (action.kind == ResourceKind::kNone) continue;
    const auto* field = method->input_type()->FindFieldByName(std::string(action.field));
    ASSERT_NE(field, nullptr) << path << " has no field " << action.field;
    EXPECT_EQ(field->cpp_type(), google::protobuf::FieldDescriptor::CPPTYPE_STRING) << path;
    EXPECT_FALSE(field->is_repeated()) << path;
  }
}

TEST(GrpcActionsTest, ActionNamesAreServiceColonName) {
  std::set<absl::string_view> seen;
  for (const RpcAction& action : AllRpcActions()) {
    EXPECT_NE(action.action.find(':'), absl::string_view::npos) << action.method;
    EXPECT_TRUE(seen.insert(action.action).second) << action.action << " names two methods";
  }
}

TEST(GrpcActionsTest, ResourcesAreArnsBuiltFromTheRequestsNameFields) {
  const AwsAccount account;
  v1::PutRecordsRequest put;
  put.set_stream_name("orders");
  const RpcAction* put_records = FindRpcAction("/tributary.v1.Streams/PutRecords");
  ASSERT_NE(put_records, nullptr);
  EXPECT_EQ(put_records->action, "kinesis:PutRecords");
  EXPECT_EQ(RpcResource(*put_records, put, account),
            "arn:aws:kinesis:us-east-1:000000000000:stream/orders");

  v1::DeleteEventSourceMappingRequest del;
  del.set_uuid("u-1");
  EXPECT_EQ(
      RpcResource(*FindRpcAction("/tributary.v1.EventSourceMappings/DeleteEventSourceMapping"), del,
                  account),
      "arn:aws:lambda:us-east-1:000000000000:event-source-mapping:u-1");

  v1::CreateFunctionRequest create;
  create.set_function_name("arn:aws:lambda:eu-west-1:111111111111:function:f");
  EXPECT_EQ(RpcResource(*FindRpcAction("/tributary.v1.Functions/CreateFunction"), create, account),
            "arn:aws:lambda:eu-west-1:111111111111:function:f");
}

TEST(GrpcActionsTest, TableCallsActOnTheTablesArnInTheConfiguredAccount) {
  const AwsAccount account{"eu-west-1", "123456789012"};
  v1::PutItemRequest put;
  put.set_table_name("users");
  EXPECT_EQ(RpcResource(*FindRpcAction("/tributary.v1.Tables/PutItem"), put, account),
            "arn:aws:dynamodb:eu-west-1:123456789012:table/users");
  v1::DeleteTableRequest del;
  del.set_table_name("users");
  const RpcAction* delete_table = FindRpcAction("/tributary.v1.Tables/DeleteTable");
  EXPECT_TRUE(delete_table->control_plane);
  EXPECT_EQ(RpcResource(*delete_table, del, account),
            "arn:aws:dynamodb:eu-west-1:123456789012:table/users");
  v1::DescribeTableStreamRequest stream;
  stream.set_stream_arn("arn:aws:dynamodb:eu-west-1:123456789012:table/users/stream/L");
  EXPECT_EQ(RpcResource(*FindRpcAction("/tributary.v1.Tables/DescribeTableStream"), stream,
                        account),
            "arn:aws:dynamodb:eu-west-1:123456789012:table/users/stream/L");
}

TEST(GrpcActionsTest, RequestsNamingNoResourceActOnStar) {
  const AwsAccount account;
  EXPECT_EQ(RpcResource(*FindRpcAction("/tributary.v1.Streams/ListStreams"),
                        v1::ListStreamsRequest(), account),
            "*");
  EXPECT_EQ(RpcResource(*FindRpcAction("/tributary.v1.Streams/PutRecords"), v1::PutRecordsRequest(),
                        account),
            "*");
  EXPECT_EQ(FindRpcAction("/tributary.v1.Streams/NoSuchMethod"), nullptr);
  EXPECT_EQ(FindRpcAction("/grpc.health.v1.Health/Check"), nullptr);
}

TEST(GrpcActionsTest, CheckpointMovesAndStreamChangesAreControlPlane) {
  EXPECT_TRUE(FindRpcAction("/tributary.v1.Leasing/Checkpoint")->control_plane);
  EXPECT_TRUE(FindRpcAction("/tributary.v1.Streams/CreateStream")->control_plane);
  EXPECT_FALSE(FindRpcAction("/tributary.v1.Streams/PutRecords")->control_plane);
  EXPECT_FALSE(FindRpcAction("/tributary.v1.Leasing/Heartbeat")->control_plane);
}

}  // namespace
}  // namespace tributary
