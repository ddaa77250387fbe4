/**
 * @module tls/transport-policy
 * Which links may run without TLS, and the TLS options of the server's own MQTT client.
 * Plain HTTP/MQTT carries admin tokens, device passwords and artifacts in clear text, so it is
 * allowed on loopback addresses only, unless the operator says `--insecure` (then it warns).
 */
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { isLoopbackHost, isPlainTextBeyondLoopback } from '@edgeloop/protocol';
import type { FleetConfig } from '../config.js';
import type { TlsMaterial } from './tls-material.js';

/**
 * Throws when plain text would carry credentials beyond this machine without --insecure: a
 * listener of ours, the external broker devices are sent to, or the public URLs enrollment hands
 * out (devices send their passwords to those). Warns when it is allowed.
 */
export function checkPlainTransport(config: FleetConfig, log: Logger): void {
  const exposed = [
    ...(!config.tls && !isLoopbackHost(config.http.host) ? [`HTTP on ${config.http.host}`] : []),
    ...(!config.tls && config.mqtt.mode === 'embedded' && !isLoopbackHost(config.mqtt.host)
      ? [`MQTT on ${config.mqtt.host}`]
      : []),
    ...(config.mqtt.mode === 'external' && isPlainTextBeyondLoopback(config.mqtt.url)
      ? [`devices to the plain-text broker ${config.mqtt.url}`]
      : []),
    ...(config.publicUrl && isPlainTextBeyondLoopback(config.publicUrl)
      ? [`devices to the plain-text public URL ${config.publicUrl}`]
      : []),
    ...(config.publicMqttUrl && isPlainTextBeyondLoopback(config.publicMqttUrl)
      ? [`devices to the plain-text public broker URL ${config.publicMqttUrl}`]
      : []),
  ];
  if (exposed.length && !config.insecure) {
    throw new Error(
      `refusing to send ${exposed.join(', ')} without TLS: admin tokens, device passwords and models would cross the network in clear text. ` +
        'Start with --tls-self-signed (a lab CA) or --tls-cert FILE --tls-key FILE (and an mqtts:// broker, docs/external-broker.md), or bind to 127.0.0.1, or accept the risk with --insecure',
    );
  }
  if (exposed.length)
    log.warn(
      { exposed },
      'plain HTTP/MQTT beyond this machine (--insecure): anyone on the network can read tokens, passwords and models; use --tls-self-signed or --tls-cert/--tls-key',
    );
  else if (!config.tls)
    log.warn(
      'plain HTTP/MQTT on loopback only: devices on other machines cannot reach this server; use --tls-self-signed or --tls-cert/--tls-key to serve them',
    );
}

/** TLS client options of the server's bus client for its broker URL (empty for plain mqtt://). */
export function busTlsOptions(
  config: FleetConfig,
  material: TlsMaterial | undefined,
  brokerUrl: string,
): { ca?: string; rejectUnauthorized?: boolean; checkServerIdentity?: () => undefined } {
  if (!/^(mqtts|wss):/.test(brokerUrl)) return {};
  if (config.mqtt.mode === 'embedded') {
    // Our own listener over loopback, by address: the chain is checked, the name need not match
    // (a certificate from a real CA rarely lists 127.0.0.1).
    return { ca: material!.caPem, rejectUnauthorized: true, checkServerIdentity: () => undefined };
  }
  const ca = config.mqtt.caFile ? readFileSync(config.mqtt.caFile, 'utf8') : material?.caPem;
  return { ...(ca ? { ca } : {}), rejectUnauthorized: true };
}
