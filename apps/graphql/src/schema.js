// The schema and resolvers: posts kept in memory (a sample; the REST sample shows DynamoDB).
'use strict';

const { buildSchema } = require('graphql');

const schema = buildSchema(`
  type Post {
    id: ID!
    title: String!
    content: String
  }

  type Query {
    posts: [Post!]!
    post(id: ID!): Post
  }

  type Mutation {
    createPost(title: String!, content: String): Post!
  }
`);

function createRoot() {
  const posts = new Map([
    ['1', { id: '1', title: 'Hello from Fargate', content: 'Served by the GraphQL sample.' }],
  ]);
  let nextId = 2;
  return {
    posts: () => [...posts.values()],
    post: ({ id }) => posts.get(id) || null,
    createPost: ({ title, content }) => {
      const post = { id: String(nextId++), title, content: content ?? null };
      posts.set(post.id, post);
      return post;
    },
  };
}

module.exports = { schema, createRoot };
