import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import perfHooks, { type IntervalHistogram } from 'node:perf_hooks';
import { tempDir } from '@edgeloop/test/support/fixtures';
import { openAgentDb } from '../store/agent-db.js';
import { AgentMetrics } from './agent-metrics.js';

test('the process metrics do not wake an idle agent more than a few times a second', async (t) => {
  // The event-loop-delay monitor samples on a native timer, invisible to JS: count its samples
  // by keeping the histogram prom-client creates.
  const histograms: IntervalHistogram[] = [];
  const original = perfHooks.monitorEventLoopDelay;
  perfHooks.monitorEventLoopDelay = (options) => {
    const h = original(options);
    histograms.push(h);
    return h;
  };
  const tmp = tempDir('agent-metrics');
  const db = openAgentDb(join(tmp.dir, 'agent.db'));
  t.after(() => {
    perfHooks.monitorEventLoopDelay = original;
    for (const h of histograms) h.disable();
    db.close();
    tmp.cleanup();
  });
  const metrics = new AgentMetrics({
    db,
    bufferRecords: () => 0,
    bufferBytes: () => 0,
    dropped: () => 0,
    connected: () => true,
    models: () => [],
    backend: 'onnxruntime-node',
    processMetrics: true,
  });
  assert.equal(histograms.length, 1, 'the process metrics monitor the event loop delay');
  await new Promise((r) => setTimeout(r, 2000));
  // Over two idle seconds: 2 samples at the agent's period, about 200 at prom-client's default.
  assert.ok(histograms[0]!.count <= 4, `the event-loop monitor woke the process ${histograms[0]!.count} times in 2 s`);
  // The lag figures are still there for operators.
  assert.match(await metrics.render(), /nodejs_eventloop_lag_p99_seconds \d/);
});

test('/metrics shows items per batch: items and partial batches sent beside the batches', async (t) => {
  const tmp = tempDir('agent-metrics-outbox');
  const db = openAgentDb(join(tmp.dir, 'agent.db'));
  t.after(() => {
    db.close();
    tmp.cleanup();
  });
  const stats = {
    kind: 'telemetry' as const,
    pending: 3,
    inFlight: 1,
    partialInFlight: 1,
    window: 8,
    ackTimeoutMs: 15_000,
    sent: 4,
    sentItems: 120,
    partialSent: 3,
    resent: 0,
    resentItems: 0,
    acked: 117,
    rejected: 0,
    timeouts: 0,
    readErrors: 0,
    ignoredAcks: 0,
  };
  const metrics = new AgentMetrics({
    db,
    bufferRecords: () => 0,
    bufferBytes: () => 0,
    dropped: () => 0,
    connected: () => true,
    models: () => [],
    backend: 'onnxruntime-node',
    outbox: () => [stats],
  });
  const text = await metrics.render();
  assert.match(text, /^edgeloop_outbox_items_sent_total\{kind="telemetry"\} 120$/m);
  assert.match(text, /^edgeloop_outbox_partial_batches_sent_total\{kind="telemetry"\} 3$/m);
  assert.match(text, /^edgeloop_outbox_batches_sent_total\{kind="telemetry",attempt="first"\} 4$/m);
});
