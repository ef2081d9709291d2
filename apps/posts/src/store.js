// Where posts live: the DynamoDB table the program created (STORAGE_POSTS_NAME, REGION), or an
// in-memory map for local runs with no AWS (STORAGE_POSTS_NAME unset, or LOCAL=1).
'use strict';

class MemoryStore {
  constructor() {
    this.items = new Map();
    this.kind = 'memory';
  }

  async list() {
    return [...this.items.values()].sort((a, b) => a.id - b.id);
  }

  async get(id) {
    return this.items.get(id);
  }

  async put(item) {
    this.items.set(item.id, { ...item });
    return item;
  }

  // Returns the updated item, or undefined when no post has that id.
  async update(id, fields) {
    const current = this.items.get(id);
    if (!current) return undefined;
    const updated = { ...current, ...fields, id };
    this.items.set(id, updated);
    return updated;
  }

  // Returns true when a post was deleted.
  async remove(id) {
    return this.items.delete(id);
  }
}

class DynamoStore {
  constructor(tableName, region) {
    // Required here, not at the top, so local runs need no AWS SDK at all.
    const { DynamoDBClient } = require('@aws-sdk/client-dynamodb');
    const lib = require('@aws-sdk/lib-dynamodb');
    this.lib = lib;
    this.table = tableName;
    this.kind = 'dynamodb';
    this.client = lib.DynamoDBDocumentClient.from(new DynamoDBClient(region ? { region } : {}), {
      marshallOptions: { removeUndefinedValues: true },
    });
  }

  async list() {
    // A scan reads the whole table page by page; fine for a sample, use a query for big tables.
    const items = [];
    let ExclusiveStartKey;
    do {
      const page = await this.client.send(new this.lib.ScanCommand({ TableName: this.table, ExclusiveStartKey }));
      items.push(...(page.Items || []));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return items.sort((a, b) => a.id - b.id);
  }

  async get(id) {
    const answer = await this.client.send(new this.lib.GetCommand({ TableName: this.table, Key: { id } }));
    return answer.Item;
  }

  async put(item) {
    await this.client.send(new this.lib.PutCommand({ TableName: this.table, Item: item }));
    return item;
  }

  async update(id, fields) {
    const names = Object.keys(fields).filter((name) => name !== 'id');
    if (names.length === 0) return this.get(id);
    try {
      const answer = await this.client.send(new this.lib.UpdateCommand({
        TableName: this.table,
        Key: { id },
        UpdateExpression: 'SET ' + names.map((_, i) => `#f${i} = :v${i}`).join(', '),
        ExpressionAttributeNames: Object.fromEntries(names.map((name, i) => [`#f${i}`, name])),
        ExpressionAttributeValues: Object.fromEntries(names.map((name, i) => [`:v${i}`, fields[name]])),
        ConditionExpression: 'attribute_exists(id)',
        ReturnValues: 'ALL_NEW',
      }));
      return answer.Attributes;
    } catch (error) {
      if (error.name === 'ConditionalCheckFailedException') return undefined;
      throw error;
    }
  }

  async remove(id) {
    const answer = await this.client.send(new this.lib.DeleteCommand({
      TableName: this.table, Key: { id }, ReturnValues: 'ALL_OLD',
    }));
    return Boolean(answer.Attributes);
  }
}

function isLocalMode(env) {
  return !env.STORAGE_POSTS_NAME || ['1', 'true', 'yes'].includes(String(env.LOCAL || '').toLowerCase());
}

function createStore(env = process.env) {
  if (isLocalMode(env)) return new MemoryStore();
  return new DynamoStore(env.STORAGE_POSTS_NAME, env.REGION || env.AWS_REGION);
}

module.exports = { createStore, MemoryStore, DynamoStore, isLocalMode };
