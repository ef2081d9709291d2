// The entrypoint container of the two-container sample.
//
// Named `express` after the seed's template, but written on Node's own http module so the image
// needs no npm install. It reaches the `python` container over localhost, because all containers
// of a Fargate task (and of `python -m ops local up`) share one network namespace.
'use strict';

const http = require('http');
const crypto = require('crypto');
const fs = require('fs');

const PORT = Number(process.env.PORT || 8080);
// Fargate and `ops local`: localhost. Plain `docker compose up` gives each container its own
// network, so set PYTHON_URL=http://python:5000 there.
const PYTHON_URL = process.env.PYTHON_URL || 'http://localhost:5000';
const SECRET_NAME = 'API_TOKEN';

function sendJson(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function fetchJson(url, timeoutMs = 3000) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => { data += chunk; });
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode, body: JSON.parse(data) });
        } catch (error) {
          reject(new Error(`python answered ${res.statusCode} with non-JSON`));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

// Where the secret came from, and a fingerprint to compare against the .secret- file.
// The value itself is never logged or returned.
function describeSecret() {
  let value = process.env[SECRET_NAME];
  let source = 'environment';
  if (value === undefined) {
    // Plain `docker compose up` mounts secrets as files instead of setting variables.
    try {
      value = fs.readFileSync(`/run/secrets/${SECRET_NAME}`, 'utf8');
      source = 'file';
    } catch (error) {
      return { name: SECRET_NAME, present: false };
    }
  }
  return {
    name: SECRET_NAME,
    present: true,
    source,
    length: value.length,
    sha256: crypto.createHash('sha256').update(value).digest('hex'),
  };
}

const server = http.createServer(async (req, res) => {
  const path = new URL(req.url, 'http://localhost').pathname;
  if (req.method !== 'GET') {
    return sendJson(res, 405, { error: `${req.method} is not allowed` });
  }
  if (path === '/health') {
    return sendJson(res, 200, { status: 'ok' });
  }
  if (path === '/') {
    return sendJson(res, 200, { service: 'express', routes: ['/python', '/secret', '/health'] });
  }
  if (path === '/python') {
    try {
      const answer = await fetchJson(`${PYTHON_URL}/`);
      return sendJson(res, 200, { via: PYTHON_URL, python: answer.body });
    } catch (error) {
      return sendJson(res, 502, { via: PYTHON_URL, error: error.message });
    }
  }
  if (path === '/secret') {
    return sendJson(res, 200, describeSecret());
  }
  return sendJson(res, 404, { error: `no route ${path}` });
});

server.listen(PORT, '0.0.0.0', () => {
  console.log(`express sample listening on ${PORT}; python at ${PYTHON_URL}`);
});

process.on('SIGTERM', () => server.close(() => process.exit(0)));
