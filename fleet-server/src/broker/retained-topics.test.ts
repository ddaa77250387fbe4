import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RetainedTopics } from './retained-topics.js';

function topics(retained: RetainedTopics, filter: string): string[] {
  return [...retained.match(filter)].map((p) => p.topic).sort();
}

test('filters match retained topics level by level, as MQTT 3.1.1 §4.7 says', () => {
  const retained = new RetainedTopics();
  for (const topic of [
    'edgeloop/v1/devices/a/presence',
    'edgeloop/v1/devices/a/desired',
    'edgeloop/v1/devices/b/presence',
    'site/labels',
    'site',
    'site//x',
    '$SYS/broker/uptime',
  ])
    retained.store({ topic, payload: Buffer.from(topic) });
  assert.equal(retained.size, 7);
  assert.deepEqual(topics(retained, 'edgeloop/v1/devices/a/desired'), ['edgeloop/v1/devices/a/desired']);
  assert.deepEqual(topics(retained, 'edgeloop/v1/devices/a/ack'), []);
  assert.deepEqual(topics(retained, 'edgeloop/v1/devices/+/presence'), [
    'edgeloop/v1/devices/a/presence',
    'edgeloop/v1/devices/b/presence',
  ]);
  assert.deepEqual(topics(retained, 'edgeloop/v1/devices/a/+'), [
    'edgeloop/v1/devices/a/desired',
    'edgeloop/v1/devices/a/presence',
  ]);
  // `#` takes the parent level too; `+` matches an empty level.
  assert.deepEqual(topics(retained, 'site/#'), ['site', 'site//x', 'site/labels']);
  assert.deepEqual(topics(retained, 'site/+/x'), ['site//x']);
  // A filter starting with a wildcard leaves `$` topics out; one naming `$SYS` gets them.
  assert.equal(topics(retained, '#').length, 6);
  assert.deepEqual(topics(retained, '+/broker/uptime'), []);
  assert.deepEqual(topics(retained, '$SYS/#'), ['$SYS/broker/uptime']);
});

test('a retained message is replaced by the next one on its topic and removed by an empty one', () => {
  const retained = new RetainedTopics();
  retained.store({ topic: 'a/b/c', payload: Buffer.from('1') });
  retained.store({ topic: 'a/b/c', payload: Buffer.from('2') });
  retained.store({ topic: 'a/b', payload: Buffer.from('parent') });
  assert.equal(retained.size, 2);
  assert.deepEqual(
    [...retained.match('a/b/c')].map((p) => p.payload.toString()),
    ['2'],
  );
  retained.store({ topic: 'a/b/c', payload: Buffer.alloc(0) });
  retained.store({ topic: 'a/b/c', payload: Buffer.alloc(0) }); // nothing left to remove
  retained.store({ topic: 'x/y', payload: '' });
  assert.equal(retained.size, 1);
  assert.deepEqual(topics(retained, '#'), ['a/b']);
  retained.store({ topic: 'a/b', payload: '' });
  assert.equal(retained.size, 0);
  assert.deepEqual(topics(retained, '#'), []);
});
