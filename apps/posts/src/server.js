'use strict';

const { createApp } = require('./app');
const { createStore } = require('./store');

const port = Number(process.env.PORT || 8080);
const store = createStore();
const server = createApp(store).listen(port, '0.0.0.0', () => {
  const where = store.kind === 'dynamodb' ? `table ${process.env.STORAGE_POSTS_NAME}` : 'memory (local mode)';
  console.log(`posts sample listening on ${port}; posts in ${where}`);
});

process.on('SIGTERM', () => server.close(() => process.exit(0)));
