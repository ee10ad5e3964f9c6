#include "common/grpc_actions.h"

#include <optional>
#include <random>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
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

// ReadResourceField (a raw method's resource, read from its bytes without parsing the rest).
const RpcAction& PutRecordsAction() { return *FindRpcAction("/tributary.v1.Streams/PutRecords"); }

v1::PutRecordsRequest Records(int n) {
  v1::PutRecordsRequest request;
  for (int i = 0; i < n; ++i) {
    auto* entry = request.add_records();
    entry->set_partition_key(absl::StrCat("pk-", i));
    entry->set_data(std::string(100, static_cast<char>('a' + i % 26)));
  }
  return request;
}

std::string NameOnly(const std::string& stream) {
  v1::PutRecordsRequest request;
  request.set_stream_name(stream);
  return request.SerializeAsString();
}

// What ReadResourceField sets from `wire`, or nullopt when it returns false (and then checks it
// left the message untouched).
std::optional<std::string> ReadStream(const std::string& wire) {
  google::protobuf::io::ArrayInputStream input(wire.data(), static_cast<int>(wire.size()),
                                               /*block_size=*/7);  // fields straddle blocks
  v1::PutRecordsRequest out;
  if (!ReadResourceField(PutRecordsAction(), &input, &out)) {
    EXPECT_EQ(out.ByteSizeLong(), 0u) << "a failed read changed the message";
    return std::nullopt;
  }
  EXPECT_EQ(out.records_size(), 0) << "the records were parsed";
  return out.stream_name();
}

TEST(GrpcActionsTest, TheResourceFieldIsReadFromTheBytesWhereverItIs) {
  const std::string records = Records(500).SerializeAsString();
  EXPECT_EQ(ReadStream(NameOnly("orders") + records), "orders");
  EXPECT_EQ(ReadStream(records + NameOnly("orders")), "orders");
  EXPECT_EQ(ReadStream(records), "");  // absent: "" (RpcResource makes it "*")
  EXPECT_EQ(ReadStream(""), "");
  // Repeated, the last occurrence wins, as in a parse (concatenated messages merge).
  const std::string twice = NameOnly("orders") + records + NameOnly("other");
  v1::PutRecordsRequest parsed;
  ASSERT_TRUE(parsed.ParseFromString(twice));
  EXPECT_EQ(parsed.stream_name(), "other");
  EXPECT_EQ(ReadStream(twice), "other");
  // Field 1 with another wire type is an unknown field to a parse: ignored here too.
  const std::string varint_one = std::string("\x08\x05", 2);
  ASSERT_TRUE(parsed.ParseFromString(NameOnly("orders") + varint_one));
  EXPECT_EQ(parsed.stream_name(), "orders");
  EXPECT_EQ(ReadStream(NameOnly("orders") + varint_one), "orders");
}

TEST(GrpcActionsTest, BytesThatDoNotReadAreLeftToAFullParse) {
  const std::string whole = NameOnly("orders") + Records(3).SerializeAsString();
  EXPECT_EQ(ReadStream(whole.substr(0, whole.size() - 1)), std::nullopt);  // truncated
  EXPECT_EQ(ReadStream(NameOnly("orders").substr(0, 4)), std::nullopt);
  EXPECT_EQ(ReadStream(std::string("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 11)),
            std::nullopt);                                                     // no varint
  EXPECT_EQ(ReadStream(std::string("\x0c", 1) + whole), std::nullopt);  // end-group at the top
  EXPECT_EQ(ReadStream(std::string("\x00", 1)), std::nullopt);          // tag 0
  // Not UTF-8: a parse refuses a proto3 string that is not, so the bytes go to one.
  const std::string latin1 = NameOnly("caf\xe9");
  v1::PutRecordsRequest parsed;
  EXPECT_FALSE(parsed.ParseFromString(latin1));
  EXPECT_EQ(ReadStream(latin1), std::nullopt);
}

TEST(GrpcActionsTest, AnActionWithoutAResourceFieldReadsNothing) {
  v1::ListStreamsRequest out;
  const std::string garbage("\xff\xff", 2);
  google::protobuf::io::ArrayInputStream input(garbage.data(), static_cast<int>(garbage.size()));
  EXPECT_TRUE(ReadResourceField(*FindRpcAction("/tributary.v1.Streams/ListStreams"), &input, &out));
  // A field the request type does not have (a table and its protos out of step): not readable.
  RpcAction wrong = PutRecordsAction();
  wrong.field = "no_such_field";
  google::protobuf::io::ArrayInputStream again(garbage.data(), static_cast<int>(garbage.size()));
  v1::PutRecordsRequest request;
  EXPECT_FALSE(ReadResourceField(wrong, &again, &request));
}

// Whenever a parse takes the bytes, the read takes them too and finds the same stream: the gate
// can never decide on another stream than the one the service then acts on. Mutated requests,
// a fixed seed.
TEST(GrpcActionsTest, TheReadAgreesWithAParseOnMutatedRequests) {
  std::mt19937 random(20261206);
  const std::string base =
      NameOnly("orders") + Records(4).SerializeAsString() + NameOnly("other-stream");
  int parsed_count = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string wire = base;
    const int edits = 1 + static_cast<int>(random() % 3);
    for (int e = 0; e < edits; ++e) {
      const size_t at = random() % wire.size();
      switch (random() % 3) {
        case 0:
          wire[at] = static_cast<char>(random());
          break;
        case 1:
          wire.erase(at, 1 + random() % 4);
          break;
        default:
          wire.insert(at, 1, static_cast<char>(random()));
          break;
      }
      if (wire.empty()) wire = base;
    }
    v1::PutRecordsRequest parsed;
    if (!parsed.ParseFromString(wire)) continue;
    ++parsed_count;
    EXPECT_EQ(ReadStream(wire), parsed.stream_name()) << "round " << round;
  }
  EXPECT_GT(parsed_count, 1000) << "too few mutations parse to test anything";
}

}  // namespace
}  // namespace tributary
