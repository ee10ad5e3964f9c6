#include "poller/invoke/table_stream_arns.h"

#include "tables/stream_ids.h"

namespace tributary::poller {

absl::StatusOr<v1::EventSourceMappingConfiguration> TableStreamArnMappingSource::GetMapping(
    const std::string& uuid) {
  absl::StatusOr<v1::EventSourceMappingConfiguration> config = inner_.GetMapping(uuid);
  if (!config.ok() || !tables::IsTableStreamName(config->stream_name())) return config;
  absl::StatusOr<TableStreamSource> source = tables_.Find(config->stream_name());
  if (source.ok()) {
    config->set_event_source_arn(DynamoDbStreamArn(account_, *source));
  } else {
    config->clear_event_source_arn();
  }
  return config;
}

}  // namespace tributary::poller
