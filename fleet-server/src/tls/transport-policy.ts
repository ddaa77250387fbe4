/**
 * @module tls/transport-policy
 * Which links may run without TLS, and the TLS options of the server's own MQTT client.
 * Plain HTTP/MQTT carries admin tokens, device passwords and artifacts in clear text, so it is
 * allowed on loopback addresses only, unless the operator says `--insecure` (then it warns).
 */
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { isLoopbackHost } from '@edgeloop/protocol';
import type { FleetConfig } from '../config.js';
import type { TlsMaterial } from './tls-material.js';

/** Throws when a listener would serve plain text beyond this machine without --insecure; warns otherwise. */
export function checkPlainTransport(config: FleetConfig, log: Logger): void {
  if (config.mqtt.mode === 'external') {
    const broker = new URL(config.mqtt.url);
    if (/^(mqtt|ws|tcp):$/.test(broker.protocol) && !isLoopbackHost(broker.hostname)) {
      log.warn({ mqttUrl: config.mqtt.url }, 'devices are sent to a plain-text broker: their passwords and records cross the network unencrypted; give Mosquitto a TLS listener (docs/external-broker.md) and an mqtts:// --mqtt-url');
    }
  }
  if (config.tls) return;
  const exposed = [
    ...(isLoopbackHost(config.http.host) ? [] : [`HTTP on ${config.http.host}`]),
    ...(config.mqtt.mode === 'embedded' && !isLoopbackHost(config.mqtt.host) ? [`MQTT on ${config.mqtt.host}`] : []),
  ];
  if (exposed.length && !config.insecure) {
    throw new Error(
      `refusing to serve ${exposed.join(' and ')} without TLS: admin tokens, device passwords and models would cross the network in clear text. ` +
        'Start with --tls-self-signed (a lab CA) or --tls-cert FILE --tls-key FILE, or bind to 127.0.0.1, or accept the risk with --insecure',
    );
  }
  if (exposed.length) log.warn({ exposed }, 'serving plain HTTP/MQTT beyond this machine (--insecure): anyone on the network can read tokens, passwords and models; use --tls-self-signed or --tls-cert/--tls-key');
  else log.warn('plain HTTP/MQTT on loopback only: devices on other machines cannot reach this server; use --tls-self-signed or --tls-cert/--tls-key to serve them');
}

/** TLS client options of the server's bus client for its broker URL (empty for plain mqtt://). */
export function busTlsOptions(config: FleetConfig, material: TlsMaterial | undefined, brokerUrl: string): { ca?: string; rejectUnauthorized?: boolean; checkServerIdentity?: () => undefined } {
  if (!/^(mqtts|wss):/.test(brokerUrl)) return {};
  if (config.mqtt.mode === 'embedded') {
    // Our own listener over loopback, by address: the chain is checked, the name need not match
    // (a certificate from a real CA rarely lists 127.0.0.1).
    return { ca: material!.caPem, rejectUnauthorized: true, checkServerIdentity: () => undefined };
  }
  const ca = config.mqtt.caFile ? readFileSync(config.mqtt.caFile, 'utf8') : material?.caPem;
  return { ...(ca ? { ca } : {}), rejectUnauthorized: true };
}
