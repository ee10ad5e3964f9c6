#!/usr/bin/env node
// A small AWS Lambda runtime for Node.js handlers (Node's standard library only), the twin of
// examples/lambda_python: it loads a handler written for Lambda from a file and serves it on
// the Lambda Runtime Interface Emulator's interface, POST /2015-03-31/functions/function/invocations.
//
//   node runtime.js --handler app.handler --listen 127.0.0.1:9002
//
// Handlers may be async (return a value or a Promise) or take Lambda's callback
// (event, context, callback). An error is Lambda's error shape with X-Amz-Function-Error:
// Unhandled. The context has Lambda's fields; getRemainingTimeInMillis() counts down to the
// caller's Lambda-Runtime-Deadline-Ms (Tributary sends its function timeout), else --timeout
// seconds. One invocation at a time, as one Lambda environment.
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');

const INVOKE_PATH = '/2015-03-31/functions/function/invocations';

function loadHandler(spec, codeDir) {
  const dot = spec.lastIndexOf('.');
  if (dot <= 0 || dot === spec.length - 1) {
    throw Object.assign(new Error(`Bad handler "${spec}": expected MODULE.FUNCTION`),
                        {errorType: 'Runtime.MalformedHandlerName'});
  }
  const moduleName = spec.slice(0, dot);
  const functionName = spec.slice(dot + 1);
  let mod;
  try {
    mod = require(path.resolve(codeDir, moduleName));
  } catch (e) {
    throw Object.assign(new Error(`Cannot find module '${moduleName}': ${e.message}`),
                        {errorType: 'Runtime.ImportModuleError'});
  }
  if (typeof mod[functionName] !== 'function') {
    throw Object.assign(new Error(`${moduleName}.${functionName} is undefined or not exported`),
                        {errorType: 'Runtime.HandlerNotFound'});
  }
  return mod[functionName];
}

function errorShape(requestId, e) {
  return {
    errorType: (e && (e.errorType || e.name)) || 'Error',
    errorMessage: (e && e.message) || String(e),
    requestId,
    stackTrace: e && e.stack ? e.stack.split('\n').slice(1).map((l) => l.trim()) : [],
  };
}

class Runtime {
  constructor(handler, options = {}) {
    this.handler = handler;
    this.functionName = options.functionName || 'function';
    this.timeoutSeconds = options.timeoutSeconds || 3;
    this.memorySize = options.memorySize || 128;
    this.functionArn = `arn:aws:lambda:${options.region || 'us-east-1'}:` +
        `${options.accountId || '000000000000'}:function:${this.functionName}`;
    const day = new Date().toISOString().slice(0, 10).replace(/-/g, '/');
    this.logStreamName = `${day}/[$LATEST]${crypto.randomBytes(16).toString('hex')}`;
    this.now = options.now || Date.now;
    this.queue = Promise.resolve();  // one invocation at a time
  }

  // Resolves to {status, headers, body} for the JSON `body` and request `headers`.
  invoke(body, headers) {
    const run = this.queue.then(() => this.invokeNow(body, headers));
    this.queue = run.catch(() => {});
    return run;
  }

  async invokeNow(body, headers) {
    const requestId = headers['lambda-runtime-aws-request-id'] || crypto.randomUUID();
    const deadline = Number.parseInt(headers['lambda-runtime-deadline-ms'], 10);
    const deadlineMs = Number.isFinite(deadline) ? deadline : this.now() + this.timeoutSeconds * 1000;
    const error = (e) => ({
      status: 200,
      headers: {'Content-Type': 'application/json', 'X-Amz-Function-Error': 'Unhandled'},
      body: JSON.stringify(errorShape(requestId, e)),
    });
    let event;
    try {
      event = body.trim() ? JSON.parse(body) : {};
    } catch (e) {
      return error(Object.assign(e, {errorType: 'Runtime.UnmarshalError'}));
    }
    const context = {
      functionName: this.functionName,
      functionVersion: '$LATEST',
      invokedFunctionArn: this.functionArn,
      memoryLimitInMB: String(this.memorySize),
      awsRequestId: requestId,
      logGroupName: `/aws/lambda/${this.functionName}`,
      logStreamName: this.logStreamName,
      callbackWaitsForEmptyEventLoop: true,
      getRemainingTimeInMillis: () => Math.max(0, deadlineMs - this.now()),
    };
    console.error(`START RequestId: ${requestId} Version: $LATEST`);
    try {
      const result = await new Promise((resolve, reject) => {
        const callback = (err, value) => (err ? reject(err) : resolve(value));
        const returned = this.handler(event, context, callback);
        if (returned && typeof returned.then === 'function') returned.then(resolve, reject);
        else if (this.handler.length < 3) resolve(returned);
      });
      const text = JSON.stringify(result === undefined ? null : result);
      return {status: 200, headers: {'Content-Type': 'application/json'}, body: text};
    } catch (e) {
      return error(e);
    } finally {
      console.error(`END RequestId: ${requestId}`);
    }
  }
}

function serve(runtime, host, port) {
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const send = ({status, headers, body}) => {
        res.writeHead(status, {...headers, 'Content-Length': Buffer.byteLength(body)});
        res.end(body);
      };
      if (req.method !== 'POST' || req.url.split('?')[0] !== INVOKE_PATH) {
        send({status: 404, headers: {'Content-Type': 'application/json'},
              body: JSON.stringify({message: `POST ${INVOKE_PATH} only`})});
        return;
      }
      send(await runtime.invoke(Buffer.concat(chunks).toString('utf8'), req.headers));
    });
  });
  server.keepAliveTimeout = 60000;
  return new Promise((resolve) => server.listen(port, host, () => resolve(server)));
}

function parseArgs(argv) {
  const args = {listen: '127.0.0.1:9002', codeDir: '.', functionName: 'function', timeout: 3,
                memorySize: 128, region: 'us-east-1', accountId: '000000000000', portFile: ''};
  const names = {'--handler': 'handler', '--listen': 'listen', '--code-dir': 'codeDir',
                 '--function-name': 'functionName', '--timeout': 'timeout',
                 '--memory-size': 'memorySize', '--region': 'region',
                 '--account-id': 'accountId', '--port-file': 'portFile'};
  for (let i = 0; i < argv.length; i += 1) {
    const [flag, inline] = argv[i].split(/=(.*)/s);
    if (!(flag in names)) throw new Error(`unknown flag ${flag}`);
    args[names[flag]] = inline !== undefined ? inline : argv[++i];
  }
  if (!args.handler) throw new Error('--handler MODULE.FUNCTION is required');
  const m = /^(.+):(\d+)$/.exec(args.listen);
  if (!m || Number(m[2]) > 65535) throw new Error(`--listen "${args.listen}": expected host:port`);
  args.host = m[1].replace(/^\[(.*)\]$/, '$1');
  args.port = Number(m[2]);
  return args;
}

async function main(argv) {
  let args;
  let handler;
  try {
    args = parseArgs(argv);
    handler = loadHandler(args.handler, args.codeDir);
  } catch (e) {
    console.error(`${e.errorType ? e.errorType + ': ' : ''}${e.message}`);
    return 2;
  }
  const runtime = new Runtime(handler, {
    functionName: args.functionName, timeoutSeconds: Number(args.timeout),
    memorySize: Number(args.memorySize), region: args.region, accountId: args.accountId});
  const server = await serve(runtime, args.host, args.port);
  const bound = server.address().port;
  if (args.portFile) {
    fs.writeFileSync(args.portFile + '.tmp', `${bound}\n`);
    fs.renameSync(args.portFile + '.tmp', args.portFile);
  }
  console.error(`lambda runtime: ${args.handler} serving http://${args.host}:${bound}${INVOKE_PATH}`);
  return null;  // keeps serving
}

module.exports = {INVOKE_PATH, Runtime, loadHandler, serve, main};

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    if (code !== null) process.exit(code);
  });
}
