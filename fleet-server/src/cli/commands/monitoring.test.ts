/**
 * Rules, alerts and incidents through a real fleet server: rule files (YAML and JSON) added,
 * listed beside the default set, disabled and removed with the CLI (audited); agents' local alerts
 * arriving over the embedded MQTT broker are validated, acked, stored once however often they are
 * re-sent, and grouped into one incident that `incidents show` lists; a reference window set on a
 * version. Every REST answer is checked against the contract (validateResponses).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import pino from 'pino';
import { buildReferenceModel } from '@edgeloop/models';
import { deviceTopic, encodeMessage, type Ack, type LocalAlert } from '@edgeloop/protocol';
import { startFleetServer } from '../../server.js';
import { main } from '../edgeloop.js';

const TOKEN = 'monitoring-cli-test-admin-token';

async function cli(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const ORIGIN_YAML = `
name: saturation-band
metric: feature.saturation.mean
scope: version
condition: { op: outside, low: 0.4, high: 0.6 }
windowMs: 300000
forMs: 60000
actions:
  - type: log
`;

test(
  'rules, alerts and incidents round trip: CLI and REST on a real server, local alerts over MQTT',
  { timeout: 90_000 },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'edgeloop-monitoring-cli-'));
    const server = await startFleetServer(
      {
        dataDir: dir,
        http: { port: 0 },
        mqtt: { mode: 'embedded', port: 0 },
        adminToken: TOKEN,
        validateResponses: true,
      },
      pino({ level: 'silent' }),
    );
    const saved = process.env.EDGELOOP_TOKEN;
    process.env.EDGELOOP_TOKEN = TOKEN;
    t.after(async () => {
      process.env.EDGELOOP_TOKEN = saved;
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const s = ['--server', server.httpUrl];

    // Rules from files, beside the defaults.
    const yamlFile = join(dir, 'origin.yaml');
    writeFileSync(yamlFile, ORIGIN_YAML);
    const added = await cli(['rules', 'add', yamlFile, ...s]);
    assert.equal(added.code, 0, added.err);
    assert.match(
      added.out,
      /rule saturation-band stored \(feature\.saturation\.mean outside \[0\.4, 0\.6\], scope version\)/,
    );
    const bad = join(dir, 'bad.json');
    writeFileSync(
      bad,
      JSON.stringify({
        name: 'x',
        metric: 'output.psi',
        scope: 'planet',
        windowMs: 1000,
        condition: { op: 'above', threshold: 1 },
      }),
    );
    const refused = await cli(['rules', 'add', bad, ...s]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.err, /the rule file .*bad\.json is invalid: .*scope.*write e\.g\./);

    const listed = await cli(['rules', 'list', ...s]);
    assert.equal(listed.code, 0, listed.err);
    for (const name of [
      'saturation-band',
      'default.output-drift',
      'default.feature-drift',
      'default.label-range',
      'default.label-shift',
      'default.live-error',
    ])
      assert.match(listed.out, new RegExp(`^${name.replace('.', '\\.')}\\s`, 'm'));
    const page = await cli(['rules', 'list', '--limit', '2', '--json', ...s]);
    const first = JSON.parse(page.out) as { rules: Array<{ rule: { name: string } }>; next: string };
    assert.deepEqual(
      first.rules.map((r) => r.rule.name),
      ['default.feature-drift', 'default.label-range'],
    );
    const rest = JSON.parse((await cli(['rules', 'list', '--after', first.next, '--json', ...s])).out) as typeof first;
    assert.deepEqual(
      rest.rules.map((r) => r.rule.name),
      ['default.label-shift', 'default.live-error', 'default.output-drift', 'saturation-band'],
    );

    assert.equal((await cli(['rules', 'disable', 'default.output-drift', ...s])).code, 0);
    const disabled = JSON.parse((await cli(['rules', 'show', 'default.output-drift', '--json', ...s])).out) as {
      rule: { rule: { enabled: boolean }; source: string };
    };
    assert.equal(disabled.rule.rule.enabled, false);
    assert.equal(disabled.rule.source, 'api');
    const removeDefault = await cli(['rules', 'remove', 'default.live-error', ...s]);
    assert.notEqual(removeDefault.code, 0);
    assert.match(removeDefault.err, /default rule: .*edgeloop rules disable default\.live-error/);
    assert.equal((await cli(['rules', 'remove', 'saturation-band', ...s])).code, 0);
    const actions = (await server.store.audit.list({ limit: 10 })).map((e) => `${e.action} ${e.target}`);
    assert.ok(actions.includes('rule.put saturation-band'));
    assert.ok(actions.includes('rule.disable default.output-drift'));
    assert.ok(actions.includes('rule.remove saturation-band'));

    // Local alerts from two devices over MQTT.
    const devices = await Promise.all(
      ['cam-1', 'cam-2'].map(async (deviceId) => {
        const { token } = await server.identity.enrollmentTokens.create({ uses: 1 }, 'test');
        const { username, password } = await server.identity.enroll({ token, deviceId });
        const client = await mqtt.connectAsync(server.mqttUrl, {
          clientId: deviceId,
          username,
          password,
          reconnectPeriod: 0,
        });
        t.after(() => client.endAsync());
        const acks: Ack[] = [];
        client.on('message', (_topic, payload) => acks.push(JSON.parse(payload.toString()) as Ack));
        await client.subscribeAsync(deviceTopic(deviceId, 'ack'), { qos: 1 });
        return { deviceId, client, acks };
      }),
    );
    const alert = (seq: number, state: LocalAlert['state'], ts: number): LocalAlert => ({
      v: 1,
      stream: 'alerts-1',
      seq,
      alertId: 'ph-cam',
      model: 'cam',
      version: 1,
      rule: 'page-hinkley',
      metric: 'drift.page_hinkley',
      state,
      value: 3.2,
      threshold: 2,
      samples: 400,
      ts,
      offlineSince: ts - 30_000,
      reason: 'inputs moved away from the training baseline',
    });
    const acked = async (d: (typeof devices)[number], count: number) => {
      for (let i = 0; i < 500 && d.acks.filter((a) => a.kind === 'alert').length < count; i++)
        await new Promise((r) => setTimeout(r, 20));
      assert.equal(
        d.acks.filter((a) => a.kind === 'alert').length,
        count,
        `${d.deviceId} acks: ${JSON.stringify(d.acks)}`,
      );
    };
    const [cam1, cam2] = devices as [(typeof devices)[number], (typeof devices)[number]];
    await cam1.client.publishAsync(deviceTopic('cam-1', 'alert'), encodeMessage(alert(1, 'firing', 1_000_000)), {
      qos: 1,
    });
    await acked(cam1, 1);
    // Re-sent after a reconnect: acked again, stored once.
    await cam1.client.publishAsync(deviceTopic('cam-1', 'alert'), encodeMessage(alert(1, 'firing', 1_000_000)), {
      qos: 1,
    });
    await acked(cam1, 2);
    await cam2.client.publishAsync(deviceTopic('cam-2', 'alert'), encodeMessage(alert(1, 'firing', 1_010_000)), {
      qos: 1,
    });
    await acked(cam2, 1);
    // Malformed: logged, not acked.
    await cam2.client.publishAsync(deviceTopic('cam-2', 'alert'), encodeMessage({ v: 1, stream: 'alerts-1', seq: 2 }), {
      qos: 1,
    });
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(cam2.acks.filter((a) => a.kind === 'alert').length, 1);

    const firing = await cli(['alerts', 'list', '--state', 'firing', '--json', ...s]);
    const alerts = (
      JSON.parse(firing.out) as { alerts: Array<{ deviceId: string; source: string; incidentId: string }> }
    ).alerts;
    assert.deepEqual(alerts.map((a) => a.deviceId).sort(), ['cam-1', 'cam-2']);
    assert.ok(alerts.every((a) => a.source === 'device' && a.incidentId === alerts[0]!.incidentId));
    const one = await cli(['alerts', 'list', '--device', 'cam-2', ...s]);
    assert.match(one.out, /firing\s+page-hinkley\s+cam@1\s+device:cam-2/);

    const incidents = await cli(['incidents', 'list', ...s]);
    assert.equal(incidents.code, 0, incidents.err);
    assert.match(incidents.out, /open\s+page-hinkley\s+cam@1\s+2\s/);
    const shown = await cli(['incidents', 'show', alerts[0]!.incidentId, ...s]);
    assert.match(shown.out, /2 affected:/);
    assert.match(shown.out, /device:cam-1\s+firing/);
    assert.match(shown.out, /device:cam-2\s+firing/);
    assert.doesNotMatch(shown.out, /resolved by/, 'nothing resolved it yet');
    const incident = (await server.store.monitoring.getIncident(alerts[0]!.incidentId))!;
    await server.store.monitoring.putIncident({
      ...incident,
      resolvedBy: { loopRunId: 'lr-0123456789', model: 'cam', version: 2, note: 'retrained on the drifted window' },
    });
    const resolved = await cli(['incidents', 'show', incident.id, ...s]);
    assert.match(resolved.out, /^resolved by loop run lr-0123456789, cam v2: retrained on the drifted window$/m);
    await server.store.monitoring.putIncident(incident);

    // The device resolves: the member is resolved, the incident waits out its quiet period.
    await cam1.client.publishAsync(deviceTopic('cam-1', 'alert'), encodeMessage(alert(2, 'resolved', 1_100_000)), {
      qos: 1,
    });
    await acked(cam1, 3);
    const cam1Alerts = await server.store.monitoring.listAlerts({ device: 'cam-1' });
    assert.equal(cam1Alerts.length, 1);
    assert.deepEqual(
      cam1Alerts[0]!.history.map((h) => h.state),
      ['firing', 'resolved'],
    );

    // A reference window for a version.
    await server.registry.register({ name: 'cam', bytes: buildReferenceModel({ seed: 1 }) });
    const ref = await cli([
      'rules',
      'reference',
      'cam@1',
      '--from',
      '1700000000000',
      '--to',
      '2023-11-14T23:13:20Z',
      ...s,
    ]);
    assert.equal(ref.code, 0, ref.err);
    assert.match(ref.out, /cam v1 is compared with fleet from/);
    assert.equal((await server.store.monitoring.getReferenceWindow('cam', 1))?.to, 1_700_003_600_000);
    assert.deepEqual(server.contractViolations, []);
  },
);
