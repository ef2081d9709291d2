// The REST routes over a store. Separate from server.js so the app can be mounted in tests.
'use strict';

const express = require('express');

// The Posts table's partition key `id` is a number (N).
function parseId(raw) {
  const id = Number(raw);
  return Number.isSafeInteger(id) ? id : undefined;
}

// Only plain JSON fields are stored; `id` is the key and is handled apart.
function postFields(body) {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    return { error: 'the body must be a JSON object, e.g. {"title": "Hello", "content": "..."}' };
  }
  const { id, ...fields } = body;
  if ('title' in fields && typeof fields.title !== 'string') {
    return { error: '"title" must be a string' };
  }
  return { fields };
}

function createApp(store) {
  const app = express();
  app.use(express.json());

  // Errors in async handlers reach the error middleware below.
  const route = (handler) => (req, res, next) => Promise.resolve(handler(req, res)).catch(next);

  app.get('/', (req, res) => res.json({ status: 'ok', service: 'posts', store: store.kind }));

  app.get('/posts', route(async (req, res) => res.json(await store.list())));

  app.get('/posts/:id', route(async (req, res) => {
    const id = parseId(req.params.id);
    if (id === undefined) return res.status(400).json({ error: 'the id must be an integer' });
    const post = await store.get(id);
    return post ? res.json(post) : res.status(404).json({ error: `no post ${id}` });
  }));

  app.post('/posts', route(async (req, res) => {
    const { fields, error } = postFields(req.body);
    if (error) return res.status(400).json({ error });
    if (typeof fields.title !== 'string') return res.status(400).json({ error: '"title" is required' });
    let id = Date.now();
    if (req.body.id !== undefined) {
      id = parseId(req.body.id);
      if (id === undefined) return res.status(400).json({ error: 'the id must be an integer' });
    }
    const post = await store.put({ ...fields, id });
    return res.status(201).json(post);
  }));

  app.put('/posts/:id', route(async (req, res) => {
    const id = parseId(req.params.id);
    if (id === undefined) return res.status(400).json({ error: 'the id must be an integer' });
    const { fields, error } = postFields(req.body);
    if (error) return res.status(400).json({ error });
    const post = await store.update(id, fields);
    return post ? res.json(post) : res.status(404).json({ error: `no post ${id}` });
  }));

  app.delete('/posts/:id', route(async (req, res) => {
    const id = parseId(req.params.id);
    if (id === undefined) return res.status(400).json({ error: 'the id must be an integer' });
    return (await store.remove(id)) ? res.status(204).end() : res.status(404).json({ error: `no post ${id}` });
  }));

  app.use((req, res) => res.status(404).json({ error: `no route ${req.method} ${req.path}` }));

  // eslint-disable-next-line no-unused-vars
  app.use((error, req, res, next) => {
    if (error.type === 'entity.parse.failed') return res.status(400).json({ error: 'the body is not valid JSON' });
    console.error(error);
    return res.status(500).json({ error: 'internal error' });
  });

  return app;
}

module.exports = { createApp, parseId };
