// Tests of the Node.js Lambda runtime (runtime.js) in process on a free loopback port, with an
// injected clock: async and callback handlers' values come back as JSON; a thrown error is
// Lambda's error shape with X-Amz-Function-Error: Unhandled; the context has Lambda's fields and
// counts down to the caller's deadline; one invocation runs at a time; only the emulator's path
// is served; a bad --handler exits 2. Run by //examples/lambda_node:runtime_test (node:test).
'use strict';

const assert = require('node:assert');
const http = require('node:http');
const path = require('node:path');
const test = require('node:test');

const {INVOKE_PATH, Runtime, loadHandler, serve, main} = require('./runtime.js');

async function withServer(handler, options, body) {
  const runtime = new Runtime(handler, {functionName: 'orders-fn', region: 'eu-west-1',
                                        accountId: '123456789012', ...options});
  const server = await serve(runtime, '127.0.0.1', 0);
  try {
    return await body(server.address().port, runtime);
  } finally {
    server.close();
  }
}

function post(port, payload, {headers = {}, target = INVOKE_PATH} = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({host: '127.0.0.1', port, method: 'POST', path: target, headers,
                              agent: false}, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({status: res.statusCode, headers: res.headers,
                                   body: Buffer.concat(chunks).toString('utf8')}));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

test('an async handler\'s value comes back as JSON', async () => {
  await withServer(async (event) => ({batchItemFailures: [], got: event.Records}), {},
                   async (port) => {
    const reply = await post(port, '{"Records":[1,2]}');
    assert.strictEqual(reply.status, 200);
    assert.strictEqual(reply.headers['x-amz-function-error'], undefined);
    assert.deepStrictEqual(JSON.parse(reply.body), {batchItemFailures: [], got: [1, 2]});
  });
});

test('a callback handler\'s value comes back as JSON, undefined as null', async () => {
  await withServer((event, context, callback) => callback(null, {n: 1}), {}, async (port) => {
    assert.deepStrictEqual(JSON.parse((await post(port, '{}')).body), {n: 1});
  });
  await withServer(() => undefined, {}, async (port) => {
    assert.strictEqual((await post(port, '{}')).body, 'null');
  });
});

test('a thrown error is Lambda\'s error shape', async () => {
  await withServer(async () => { throw new TypeError('bad record'); }, {}, async (port) => {
    const reply = await post(port, '{}', {headers: {'Lambda-Runtime-Aws-Request-Id': 'req-1'}});
    assert.strictEqual(reply.status, 200);
    assert.strictEqual(reply.headers['x-amz-function-error'], 'Unhandled');
    const shape = JSON.parse(reply.body);
    assert.deepStrictEqual(Object.keys(shape).sort(),
                           ['errorMessage', 'errorType', 'requestId', 'stackTrace']);
    assert.strictEqual(shape.errorType, 'TypeError');
    assert.strictEqual(shape.errorMessage, 'bad record');
    assert.strictEqual(shape.requestId, 'req-1');
    assert.ok(shape.stackTrace.length > 0);
  });
  await withServer(() => ({}), {}, async (port) => {
    const reply = await post(port, '{not json');
    assert.strictEqual(JSON.parse(reply.body).errorType, 'Runtime.UnmarshalError');
  });
});

test('the context has Lambda\'s fields and counts down to the deadline', async () => {
  let now = 1700000000000;
  let seen;
  const handler = async (event, context) => {
    const remaining = context.getRemainingTimeInMillis();
    now += 250;
    seen = {...context, remaining, later: context.getRemainingTimeInMillis()};
    return {};
  };
  await withServer(handler, {now: () => now, memorySize: 256}, async (port) => {
    await post(port, '{}', {headers: {'Lambda-Runtime-Deadline-Ms': String(now + 1500)}});
  });
  assert.strictEqual(seen.functionName, 'orders-fn');
  assert.strictEqual(seen.functionVersion, '$LATEST');
  assert.strictEqual(seen.invokedFunctionArn,
                     'arn:aws:lambda:eu-west-1:123456789012:function:orders-fn');
  assert.strictEqual(seen.memoryLimitInMB, '256');
  assert.strictEqual(seen.logGroupName, '/aws/lambda/orders-fn');
  assert.match(seen.logStreamName, /^\d{4}\/\d\d\/\d\d\/\[\$LATEST\][0-9a-f]{32}$/);
  assert.match(seen.awsRequestId, /^[0-9a-f-]{36}$/);
  assert.strictEqual(seen.remaining, 1500);
  assert.strictEqual(seen.later, 1250);
});

test('one invocation runs at a time', async () => {
  let running = 0;
  let most = 0;
  const handler = async () => {
    running += 1;
    most = Math.max(most, running);
    await new Promise((resolve) => setImmediate(resolve));
    running -= 1;
    return {};
  };
  await withServer(handler, {}, async (port) => {
    await Promise.all([post(port, '{}'), post(port, '{}'), post(port, '{}')]);
  });
  assert.strictEqual(most, 1);
});

test('only the emulator\'s path is served', async () => {
  await withServer(() => ({}), {}, async (port) => {
    assert.strictEqual((await post(port, '{}', {target: '/other'})).status, 404);
  });
});

test('the example handler reports poison records', async () => {
  const handler = loadHandler('app.handler', __dirname);
  const record = (seq, text) => ({eventID: `shardId-000000000000:${seq}`,
                                  kinesis: {partitionKey: 'k', sequenceNumber: seq,
                                            data: Buffer.from(text).toString('base64')}});
  const log = console.log;
  console.log = () => {};
  try {
    const reply = await handler({Records: [record('1', 'hi'), record('2', 'poison!')]},
                                {getRemainingTimeInMillis: () => 1000});
    assert.deepStrictEqual(reply, {batchItemFailures: [{itemIdentifier: '2'}]});
  } finally {
    console.log = log;
  }
});

test('a bad handler exits 2 with Lambda\'s error type', async () => {
  const error = console.error;
  const lines = [];
  console.error = (line) => lines.push(line);
  try {
    assert.strictEqual(await main(['--handler', 'app.nope', '--code-dir', __dirname]), 2);
    assert.strictEqual(await main(['--handler', 'missing.handler', '--code-dir', __dirname]), 2);
  } finally {
    console.error = error;
  }
  assert.match(lines[0], /Runtime.HandlerNotFound/);
  assert.match(lines[1], /Runtime.ImportModuleError/);
});
