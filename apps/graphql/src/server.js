// GraphQL over HTTP: POST /graphql with {"query", "variables", "operationName"}; GET / for health.
'use strict';

const http = require('http');
const { graphql } = require('graphql');
const { schema, createRoot } = require('./schema');

const port = Number(process.env.PORT || 8080);
// All interfaces by default, as a container must; HOST=127.0.0.1 keeps a run on your machine private.
const host = process.env.HOST || '0.0.0.0';
const rootValue = createRoot();
const MAX_BODY_BYTES = 1024 * 1024;

function sendJson(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks = [];
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('the request body is larger than 1 MiB'));
        req.destroy();
      } else {
        chunks.push(chunk);
      }
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const server = http.createServer(async (req, res) => {
  const path = new URL(req.url, 'http://localhost').pathname;
  if (req.method === 'GET' && (path === '/' || path === '/health')) {
    return sendJson(res, 200, { status: 'ok', service: 'graphql' });
  }
  if (path !== '/graphql') return sendJson(res, 404, { errors: [{ message: `no route ${path}` }] });
  if (req.method !== 'POST') return sendJson(res, 405, { errors: [{ message: 'use POST /graphql' }] });

  let request;
  try {
    request = JSON.parse(await readBody(req));
  } catch (error) {
    return sendJson(res, 400, { errors: [{ message: `the body is not a GraphQL JSON request: ${error.message}` }] });
  }
  if (!request || typeof request.query !== 'string') {
    return sendJson(res, 400, { errors: [{ message: 'the body needs a "query" string' }] });
  }
  const result = await graphql({
    schema,
    rootValue,
    source: request.query,
    variableValues: request.variables,
    operationName: request.operationName,
  });
  // Per GraphQL over HTTP: a request that could not run at all (no data) is a 400.
  return sendJson(res, result.data === undefined ? 400 : 200, result);
});

server.listen(port, host, () => console.log(`graphql sample listening on ${port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
