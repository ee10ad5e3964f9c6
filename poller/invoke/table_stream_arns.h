// TableStreamArnMappingSource: a MappingSource (poller/interfaces.h) that gives mappings on a
// table's change stream the table stream's ARN. The tracker serves every mapping's
// event_source_arn in Kinesis's form (it knows no tables), which for a "_tables.*" store stream
// names nothing; the poller writes that ARN into on-failure records (failure_record.h:
// DDBStreamBatchInfo.streamArn), so for such a mapping it is replaced by
// arn:aws:dynamodb:REGION:ACCOUNT:table/NAME/stream/LABEL, found through `tables`. When the
// table stream cannot be found (its table deleted and the stream expired, the store
// unreachable) event_source_arn is cleared rather than left wrong: the record then has no
// streamArn. Other mappings pass unchanged.
//
// Thread-safe when `inner` and `tables` are; both must outlive it.
#ifndef TRIBUTARY_POLLER_INVOKE_TABLE_STREAM_ARNS_H_
#define TRIBUTARY_POLLER_INVOKE_TABLE_STREAM_ARNS_H_

#include <string>

#include "poller/interfaces.h"
#include "poller/invoke/dynamodb_event.h"
#include "poller/invoke/lambda_event.h"

namespace tributary::poller {

class TableStreamArnMappingSource : public MappingSource {
 public:
  TableStreamArnMappingSource(MappingSource& inner, TableStreamSources& tables,
                              LambdaAccount account)
      : inner_(inner), tables_(tables), account_(std::move(account)) {}

  // `inner`'s mapping, its event_source_arn as described above. Errors: `inner`'s.
  absl::StatusOr<v1::EventSourceMappingConfiguration> GetMapping(const std::string& uuid) override;

 private:
  MappingSource& inner_;
  TableStreamSources& tables_;
  const LambdaAccount account_;
};

}  // namespace tributary::poller

#endif  // TRIBUTARY_POLLER_INVOKE_TABLE_STREAM_ARNS_H_
