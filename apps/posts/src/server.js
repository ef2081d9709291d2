'use strict';

const { createApp } = require('./app');
const { createStore } = require('./store');

const port = Number(process.env.PORT || 8080);
// All interfaces by default, as a container must; HOST=127.0.0.1 keeps a run on your machine private.
const host = process.env.HOST || '0.0.0.0';
const store = createStore();
const server = createApp(store).listen(port, host, () => {
  const where = store.kind === 'dynamodb' ? `table ${process.env.STORAGE_POSTS_NAME}` : 'memory (local mode)';
  console.log(`posts sample listening on ${port}; posts in ${where}`);
});

process.on('SIGTERM', () => server.close(() => process.exit(0)));
