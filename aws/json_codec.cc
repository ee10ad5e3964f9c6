// RapidJSON's SAX reader builds the Value directly (no intermediate DOM): one pass, one copy of
// each string. The iterative parser keeps its own stack, and our builder keeps one too, so
// nesting costs no native stack until kMaxValueDepth stops it.
#include "aws/json_codec.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "rapidjson/error/en.h"
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

// The offset of the first byte that does not begin a well-formed UTF-8 sequence (RFC 3629: no
// overlong forms, no surrogates, nothing above U+10FFFF), or npos. ASCII, which is nearly every
// byte of a Kinesis body (base64 data), is checked eight bytes at a time: RapidJSON's own
// per-character validation was the largest single cost of parsing a PutRecords call.
size_t FirstInvalidUtf8(absl::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    uint64_t word;
    while (i + sizeof(word) <= n) {
      std::memcpy(&word, p + i, sizeof(word));
      if ((word & 0x8080808080808080ULL) != 0) break;
      i += sizeof(word);
    }
    if (i >= n) break;
    const unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t length = 0;
    unsigned char low = 0x80, high = 0xBF;  // the range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      length = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      length = 3;
      if (c == 0xE0) low = 0xA0;   // no overlong forms
      if (c == 0xED) high = 0x9F;  // no surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      length = 4;
      if (c == 0xF0) low = 0x90;   // no overlong forms
      if (c == 0xF4) high = 0x8F;  // nothing above U+10FFFF
    } else {
      return i;
    }
    if (i + length > n || p[i + 1] < low || p[i + 1] > high) return i;
    for (size_t k = 2; k < length; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return i;
    }
    i += length;
  }
  return absl::string_view::npos;
}

}  // namespace

absl::StatusOr<Value> ParseJson(const std::string& body) {
  if (body.size() > std::numeric_limits<rapidjson::SizeType>::max()) {
    return absl::InvalidArgumentError("JSON body too large");
  }
  // The whole body must be UTF-8 (RFC 8259), checked up front, faster than RapidJSON's
  // kParseValidateEncodingFlag would check it string by string. (Outside strings JSON is ASCII,
  // so the two accept the same bodies.)
  if (const size_t bad = FirstInvalidUtf8(body); bad != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("malformed JSON at byte ", bad, ": invalid UTF-8"));
  }
  // StringStream reads up to the terminating NUL (and with RAPIDJSON_SSE2 scans strings 16 bytes
  // at a time), so a NUL inside the body must be refused first: it would end the document early.
  if (const void* nul = std::memchr(body.data(), '\0', body.size()); nul != nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "malformed JSON at byte ", static_cast<const char*>(nul) - body.data(), ": a NUL byte"));
  }
  rapidjson::StringStream in(body.c_str());
  rapidjson::Reader reader;
  Builder builder;
  constexpr unsigned kFlags = rapidjson::kParseIterativeFlag;
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
