// libcbor's streaming decoder calls back once per data item head (or definite string); the
// Builder below turns those calls into a Value with its own stack of open containers, so a
// hostile body cannot recurse on the native stack (libcbor's tree API, cbor_load, builds a tree
// whose release is recursive). A callback cannot stop the decoder, so the first error is kept
// and the decode loop stops after that call.
#include "aws/cbor_codec.h"

#include <cmath>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cbor.h"

namespace tributary::aws {
namespace {

constexpr uint64_t kTagEpochTime = 1;

// RFC 3629 UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF.
bool ValidUtf8(absl::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    const unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int n;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (end - p <= n) return false;
    for (int i = 1; i <= n; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    p += n + 1;
  }
  return true;
}

class Builder {
 public:
  // The callbacks, as libcbor wants them (C function pointers with a context).
  static const cbor_callbacks& Callbacks() {
    static const cbor_callbacks callbacks = [] {
      cbor_callbacks c = cbor_empty_callbacks;
      c.uint8 = [](void* b, uint8_t v) { Self(b)->Unsigned(v); };
      c.uint16 = [](void* b, uint16_t v) { Self(b)->Unsigned(v); };
      c.uint32 = [](void* b, uint32_t v) { Self(b)->Unsigned(v); };
      c.uint64 = [](void* b, uint64_t v) { Self(b)->Unsigned(v); };
      c.negint8 = [](void* b, uint8_t v) { Self(b)->Negative(v); };
      c.negint16 = [](void* b, uint16_t v) { Self(b)->Negative(v); };
      c.negint32 = [](void* b, uint32_t v) { Self(b)->Negative(v); };
      c.negint64 = [](void* b, uint64_t v) { Self(b)->Negative(v); };
      c.byte_string_start = [](void* b) { Self(b)->StartChunks(Value::Type::kBytes); };
      c.byte_string = [](void* b, cbor_data d, size_t n) {
        Self(b)->Chunk(Value::Type::kBytes, d, n);
      };
      c.string_start = [](void* b) { Self(b)->StartChunks(Value::Type::kString); };
      c.string = [](void* b, cbor_data d, size_t n) { Self(b)->Chunk(Value::Type::kString, d, n); };
      c.indef_array_start = [](void* b) { Self(b)->Open(Value::List(), -1); };
      c.array_start = [](void* b, size_t n) {
        Self(b)->Open(Value::List(), static_cast<int64_t>(n));
      };
      c.indef_map_start = [](void* b) { Self(b)->Open(Value::Map(), -1); };
      c.map_start = [](void* b, size_t n) {
        // Keys and values are items of their own.
        Self(b)->Open(Value::Map(), n > (std::numeric_limits<size_t>::max() >> 2)
                                        ? std::numeric_limits<int64_t>::max()
                                        : static_cast<int64_t>(2 * n));
      };
      c.tag = [](void* b, uint64_t tag) { Self(b)->Tag(tag); };
      c.float2 = [](void* b, float v) { Self(b)->Float(v); };
      c.float4 = [](void* b, float v) { Self(b)->Float(v); };
      c.float8 = [](void* b, double v) { Self(b)->Float(v); };
      c.undefined = [](void* b) { Self(b)->Fail("undefined is not a valid value"); };
      c.null = [](void* b) { Self(b)->Put(Value()); };
      c.boolean = [](void* b, bool v) { Self(b)->Put(Value::Bool(v)); };
      c.indef_break = [](void* b) { Self(b)->Break(); };
      return c;
    }();
    return callbacks;
  }

  bool failed() const { return error_.has_value(); }
  const std::string& error() const { return *error_; }
  bool done() const { return done_; }
  bool open() const { return !stack_.empty() || pending_tag_.has_value(); }
  Value& result() { return result_; }

 private:
  struct Frame {
    Value::Type kind;    // kList, kMap, or kString / kBytes for an indefinite string's chunks
    Value container;     // kList / kMap
    std::string chunks;  // kString / kBytes
    int64_t remaining;   // items left in a definite container; -1 when indefinite
    std::string key;     // maps: the key read, when have_key
    bool have_key = false;
  };

  static Builder* Self(void* b) { return static_cast<Builder*>(b); }

  void Fail(std::string message) {
    if (!error_) error_ = std::move(message);
  }

  void Unsigned(uint64_t v) {
    if (TakeTimestampTag()) {
      if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return Fail("timestamp out of range");
      }
      return Put(Value::Timestamp(absl::FromUnixMillis(static_cast<int64_t>(v))));
    }
    if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return Put(Value::Double(static_cast<double>(v)));
    }
    Put(Value::Integer(static_cast<int64_t>(v)));
  }

  // CBOR's negative integer n encodes -1 - n.
  void Negative(uint64_t n) {
    const bool timestamp = TakeTimestampTag();
    if (n > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      if (timestamp) return Fail("timestamp out of range");
      return Put(Value::Double(-1.0 - static_cast<double>(n)));
    }
    const int64_t v = -1 - static_cast<int64_t>(n);
    if (timestamp) return Put(Value::Timestamp(absl::FromUnixMillis(v)));
    Put(Value::Integer(v));
  }

  void Float(double v) {
    if (TakeTimestampTag()) {
      if (!std::isfinite(v)) return Fail("timestamp is not a finite number");
      // Rounded to the microsecond: a double's nanoseconds since 1970 are not exact.
      return Put(Value::Timestamp(absl::FromUnixMicros(std::llround(v * 1000.0))));
    }
    Put(Value::Double(v));
  }

  void Tag(uint64_t tag) {
    if (pending_tag_) return Fail("a tag must be followed by an item, not another tag");
    pending_tag_ = tag;
  }

  // Consumes a pending tag; true when it was tag 1 (epoch time).
  bool TakeTimestampTag() {
    if (!pending_tag_) return false;
    const bool timestamp = *pending_tag_ == kTagEpochTime;
    pending_tag_.reset();
    return timestamp;
  }

  // Items that are not numbers may carry other tags (ignored) but not tag 1.
  bool TagAllowsNonNumber() {
    if (TakeTimestampTag()) {
      Fail("tag 1 (epoch time) must be followed by a number");
      return false;
    }
    return true;
  }

  void StartChunks(Value::Type kind) {
    if (!TagAllowsNonNumber() || !CheckDepth()) return;
    stack_.push_back(Frame{kind, Value(), std::string(), -1, std::string(), false});
  }

  void Chunk(Value::Type kind, cbor_data data, size_t n) {
    absl::string_view bytes(reinterpret_cast<const char*>(data), n);
    if (!stack_.empty() &&
        (stack_.back().kind == Value::Type::kString || stack_.back().kind == Value::Type::kBytes)) {
      // A chunk of an indefinite string: same major type, and no tag, required.
      if (stack_.back().kind != kind || pending_tag_) {
        return Fail("a chunk of an indefinite-length string has the wrong type");
      }
      stack_.back().chunks.append(bytes.data(), bytes.size());
      return;
    }
    if (!TagAllowsNonNumber()) return;
    if (kind == Value::Type::kString) {
      if (!ValidUtf8(bytes)) return Fail("invalid UTF-8 in a text string");
      return Put(Value::String(std::string(bytes)));
    }
    Put(Value::Bytes(std::string(bytes)));
  }

  bool CheckDepth() {
    if (static_cast<int>(stack_.size()) >= kMaxValueDepth) {
      Fail(absl::StrCat("CBOR nested deeper than ", kMaxValueDepth, " levels"));
      return false;
    }
    return true;
  }

  void Open(Value container, int64_t items) {
    if (!TagAllowsNonNumber() || !CheckDepth()) return;
    const Value::Type kind = container.type();
    stack_.push_back(Frame{kind, std::move(container), std::string(), items, std::string(), false});
    if (items == 0) Close();
  }

  void Break() {
    if (stack_.empty() || stack_.back().remaining != -1 || pending_tag_) {
      return Fail("unexpected break");
    }
    Frame& top = stack_.back();
    if (top.kind == Value::Type::kString || top.kind == Value::Type::kBytes) {
      std::string chunks = std::move(top.chunks);
      const Value::Type kind = top.kind;
      stack_.pop_back();
      if (kind == Value::Type::kString) {
        if (!ValidUtf8(chunks)) return Fail("invalid UTF-8 in a text string");
        return Put(Value::String(std::move(chunks)));
      }
      return Put(Value::Bytes(std::move(chunks)));
    }
    if (top.kind == Value::Type::kMap && top.have_key) return Fail("a map key without a value");
    Close();
  }

  // Closes the top container and hands it to its parent.
  void Close() {
    Value done = std::move(stack_.back().container);
    stack_.pop_back();
    Put(std::move(done));
  }

  void Put(Value v) {
    if (failed()) return;
    if (pending_tag_ && !TagAllowsNonNumber()) return;
    if (stack_.empty()) {
      if (done_) return Fail("more than one top-level item");
      result_ = std::move(v);
      done_ = true;
      return;
    }
    Frame& top = stack_.back();
    if (top.kind == Value::Type::kString || top.kind == Value::Type::kBytes) {
      return Fail("an indefinite-length string holds something other than chunks");
    }
    if (top.kind == Value::Type::kMap) {
      if (!top.have_key) {
        if (v.type() != Value::Type::kString) return Fail("a map key is not a text string");
        top.key = v.string_value();
        top.have_key = true;
      } else {
        top.container.Add(std::move(top.key), std::move(v));
        top.key.clear();
        top.have_key = false;
      }
    } else {
      top.container.Append(std::move(v));
    }
    if (top.remaining > 0 && --top.remaining == 0) Close();
  }

  std::vector<Frame> stack_;
  std::optional<uint64_t> pending_tag_;
  std::optional<std::string> error_;
  Value result_;
  bool done_ = false;
};

void AppendHead(size_t (*encode)(uint64_t, unsigned char*, size_t), uint64_t v, std::string* out) {
  unsigned char buffer[9];
  const size_t n = encode(v, buffer, sizeof(buffer));
  out->append(reinterpret_cast<const char*>(buffer), n);
}

size_t EncodeStringHead(uint64_t n, unsigned char* b, size_t size) {
  return cbor_encode_string_start(n, b, size);
}
size_t EncodeBytesHead(uint64_t n, unsigned char* b, size_t size) {
  return cbor_encode_bytestring_start(n, b, size);
}
size_t EncodeArrayHead(uint64_t n, unsigned char* b, size_t size) {
  return cbor_encode_array_start(n, b, size);
}
size_t EncodeMapHead(uint64_t n, unsigned char* b, size_t size) {
  return cbor_encode_map_start(n, b, size);
}

void AppendInteger(int64_t v, std::string* out) {
  if (v >= 0) return AppendHead(cbor_encode_uint, static_cast<uint64_t>(v), out);
  // -1 - v without overflow for INT64_MIN.
  AppendHead(cbor_encode_negint, static_cast<uint64_t>(-(v + 1)), out);
}

void Write(const Value& v, std::string* out) {
  unsigned char buffer[9];
  switch (v.type()) {
    case Value::Type::kNull:
      out->append(reinterpret_cast<const char*>(buffer), cbor_encode_null(buffer, 9));
      break;
    case Value::Type::kBool:
      out->append(reinterpret_cast<const char*>(buffer),
                  cbor_encode_bool(v.bool_value(), buffer, 9));
      break;
    case Value::Type::kInteger:
      AppendInteger(v.integer_value(), out);
      break;
    case Value::Type::kDouble:
      out->append(reinterpret_cast<const char*>(buffer),
                  cbor_encode_double(v.double_value(), buffer, 9));
      break;
    case Value::Type::kString:
      AppendHead(EncodeStringHead, v.string_value().size(), out);
      out->append(v.string_value());
      break;
    case Value::Type::kBytes:
      AppendHead(EncodeBytesHead, v.string_value().size(), out);
      out->append(v.string_value());
      break;
    case Value::Type::kTimestamp:
      AppendHead(cbor_encode_tag, kTagEpochTime, out);
      AppendInteger(absl::ToUnixMillis(v.timestamp_value()), out);
      break;
    case Value::Type::kList:
      AppendHead(EncodeArrayHead, v.list().size(), out);
      for (const Value& e : v.list()) Write(e, out);
      break;
    case Value::Type::kMap:
      AppendHead(EncodeMapHead, v.members().size(), out);
      for (const Value::Member& m : v.members()) {
        AppendHead(EncodeStringHead, m.first.size(), out);
        out->append(m.first);
        Write(m.second, out);
      }
      break;
  }
}

}  // namespace

absl::StatusOr<Value> ParseCbor(absl::string_view body) {
  Builder builder;
  const auto* data = reinterpret_cast<cbor_data>(body.data());
  size_t offset = 0;
  while (offset < body.size()) {
    if (builder.done()) {
      return absl::InvalidArgumentError(
          absl::StrCat("malformed CBOR at byte ", offset, ": bytes after the top-level item"));
    }
    const cbor_decoder_result r =
        cbor_stream_decode(data + offset, body.size() - offset, &Builder::Callbacks(), &builder);
    if (r.status == CBOR_DECODER_NEDATA) {
      return absl::InvalidArgumentError(
          absl::StrCat("malformed CBOR at byte ", offset, ": truncated"));
    }
    if (r.status == CBOR_DECODER_ERROR) {
      return absl::InvalidArgumentError(
          absl::StrCat("malformed CBOR at byte ", offset, ": invalid item head"));
    }
    if (builder.failed()) {
      return absl::InvalidArgumentError(
          absl::StrCat("malformed CBOR at byte ", offset, ": ", builder.error()));
    }
    offset += r.read;
  }
  if (!builder.done() || builder.open()) {
    return absl::InvalidArgumentError(
        absl::StrCat("malformed CBOR at byte ", offset, ": truncated"));
  }
  return std::move(builder.result());
}

std::string WriteCbor(const Value& value) {
  std::string out;
  Write(value, &out);
  return out;
}

}  // namespace tributary::aws
