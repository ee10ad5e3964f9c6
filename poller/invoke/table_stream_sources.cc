#include "poller/invoke/table_stream_sources.h"

namespace tributary::poller {

absl::StatusOr<TableStreamSource> RemoteTableStreamSources::Find(const std::string& stream_name) {
  {
    absl::MutexLock lock(&mu_);
    auto it = found_.find(stream_name);
    if (it != found_.end()) return it->second;
  }
  v1::DescribeTableStreamRequest request;
  request.set_stream_name(stream_name);
  absl::StatusOr<v1::TableStream> stream = client_.DescribeTableStream(request);  // no lock held
  if (!stream.ok()) return stream.status();
  TableStreamSource source{stream->table_name(), stream->stream_label(), stream->table_id()};
  absl::MutexLock lock(&mu_);
  found_.emplace(stream_name, source);
  return source;
}

}  // namespace tributary::poller
