// An unchanged Lambda handler for Kinesis in Node.js: decodes each record and reports records
// whose data starts with "poison" as partial batch failures (ReportBatchItemFailures).
//
//   node runtime.js --handler app.handler --listen 127.0.0.1:9002
exports.handler = async (event, context) => {
  const batchItemFailures = [];
  for (const record of event.Records) {
    const payload = Buffer.from(record.kinesis.data, 'base64').toString('utf8');
    console.log(record.eventID, record.kinesis.partitionKey, payload);
    if (payload.startsWith('poison')) {
      batchItemFailures.push({itemIdentifier: record.kinesis.sequenceNumber});
    }
  }
  console.log(`${event.Records.length} records, ${context.getRemainingTimeInMillis()} ms left`);
  return {batchItemFailures};
};
