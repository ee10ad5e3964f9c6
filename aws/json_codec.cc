// RapidJSON's SAX reader builds the Value directly (no intermediate DOM): one pass, one copy of
// each string. The iterative parser keeps its own stack, and our builder keeps one too, so
// nesting costs no native stack until kMaxValueDepth stops it.
#include "aws/json_codec.h"

#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "rapidjson/error/en.h"
#include "rapidjson/memorystream.h"
#include "rapidjson/reader.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace tributary::aws {
namespace {

class Builder {
 public:
  bool Null() { return Put(Value()); }
  bool Bool(bool b) { return Put(Value::Bool(b)); }
  bool Int(int i) { return Put(Value::Integer(i)); }
  bool Uint(unsigned u) { return Put(Value::Integer(u)); }
  bool Int64(int64_t i) { return Put(Value::Integer(i)); }
  bool Uint64(uint64_t u) {
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return Put(Value::Double(static_cast<double>(u)));
    }
    return Put(Value::Integer(static_cast<int64_t>(u)));
  }
  bool Double(double d) { return Put(Value::Double(d)); }
  bool RawNumber(const char*, rapidjson::SizeType, bool) { return false; }  // not requested
  bool String(const char* s, rapidjson::SizeType n, bool) {
    return Put(Value::String(std::string(s, n)));
  }
  bool Key(const char* s, rapidjson::SizeType n, bool) {
    stack_.back().key.assign(s, n);
    return true;
  }
  bool StartObject() { return Open(Value::Map()); }
  bool EndObject(rapidjson::SizeType) { return Close(); }
  bool StartArray() { return Open(Value::List()); }
  bool EndArray(rapidjson::SizeType) { return Close(); }

  bool too_deep() const { return too_deep_; }
  Value& result() { return result_; }

 private:
  struct Frame {
    Value container;
    std::string key;  // the pending member name (maps)
  };

  bool Put(Value v) {
    if (stack_.empty()) {
      result_ = std::move(v);
      return true;
    }
    Frame& top = stack_.back();
    if (top.container.type() == Value::Type::kMap) {
      top.container.Add(std::move(top.key), std::move(v));
      top.key.clear();
    } else {
      top.container.Append(std::move(v));
    }
    return true;
  }
  bool Open(Value container) {
    if (static_cast<int>(stack_.size()) >= kMaxValueDepth) {
      too_deep_ = true;
      return false;
    }
    stack_.push_back(Frame{std::move(container), std::string()});
    return true;
  }
  bool Close() {
    Value done = std::move(stack_.back().container);
    stack_.pop_back();
    return Put(std::move(done));
  }

  std::vector<Frame> stack_;
  Value result_;
  bool too_deep_ = false;
};

void Write(const Value& v, rapidjson::Writer<rapidjson::StringBuffer>* w) {
  switch (v.type()) {
    case Value::Type::kNull:
      w->Null();
      break;
    case Value::Type::kBool:
      w->Bool(v.bool_value());
      break;
    case Value::Type::kInteger:
      w->Int64(v.integer_value());
      break;
    case Value::Type::kDouble:
      if (std::isfinite(v.double_value())) {
        w->Double(v.double_value());
      } else {
        w->Null();  // JSON has no NaN or infinity; we never produce them
      }
      break;
    case Value::Type::kString:
      w->String(v.string_value().data(), static_cast<rapidjson::SizeType>(v.string_value().size()));
      break;
    case Value::Type::kBytes: {
      std::string base64;
      absl::Base64Escape(v.string_value(), &base64);
      w->String(base64.data(), static_cast<rapidjson::SizeType>(base64.size()));
      break;
    }
    case Value::Type::kTimestamp: {
      // Epoch seconds with the milliseconds as a fraction, as AWS writes them.
      const int64_t ms = absl::ToUnixMillis(v.timestamp_value());
      w->Double(static_cast<double>(ms) / 1000.0);
      break;
    }
    case Value::Type::kList:
      w->StartArray();
      for (const Value& e : v.list()) Write(e, w);
      w->EndArray();
      break;
    case Value::Type::kMap:
      w->StartObject();
      for (const Value::Member& m : v.members()) {
        w->Key(m.first.data(), static_cast<rapidjson::SizeType>(m.first.size()));
        Write(m.second, w);
      }
      w->EndObject();
      break;
  }
}

}  // namespace

absl::StatusOr<Value> ParseJson(absl::string_view body) {
  if (body.size() > std::numeric_limits<rapidjson::SizeType>::max()) {
    return absl::InvalidArgumentError("JSON body too large");
  }
  // MemoryStream reads exactly `body` (no terminating NUL needed); kParseValidateEncodingFlag
  // checks the UTF-8 as it goes.
  rapidjson::MemoryStream in(body.data(), body.size());
  rapidjson::Reader reader;
  Builder builder;
  constexpr unsigned kFlags =
      rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;
  rapidjson::ParseResult ok = reader.Parse<kFlags>(in, builder);
  if (!ok) {
    if (builder.too_deep()) {
      return absl::InvalidArgumentError(
          absl::StrCat("JSON nested deeper than ", kMaxValueDepth, " levels"));
    }
    return absl::InvalidArgumentError(absl::StrCat("malformed JSON at byte ", ok.Offset(), ": ",
                                                   rapidjson::GetParseError_En(ok.Code())));
  }
  return std::move(builder.result());
}

std::string WriteJson(const Value& value) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  Write(value, &writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace tributary::aws
