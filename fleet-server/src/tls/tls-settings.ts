/**
 * @module tls/tls-settings
 * The `tls` section of the fleet config (flags on `edgeloop serve`): certificate files from a
 * real CA, or a lab CA the server makes itself. Without it the server speaks plain HTTP/MQTT,
 * which it allows only on loopback addresses unless `insecure` is set.
 */
import { z } from 'zod';

export const tlsSettingsSchema = z.discriminatedUnion('mode', [
  z
    .object({
      mode: z.literal('files'),
      /** PEM: the server certificate, optionally followed by its intermediates (sent as the chain). */
      certFile: z.string().min(1),
      keyFile: z.string().min(1),
      /**
       * PEM of the CA devices pin (its fingerprint is printed by `edgeloop tokens create`).
       * Default: the last certificate of certFile, the top of the chain the server presents.
       */
      caFile: z.string().min(1).optional(),
    })
    .strict(),
  z
    .object({
      mode: z.literal('self-signed'),
      /** Names beyond localhost, 127.0.0.1, ::1 and the hostname that devices use to reach the server. */
      subjectAltNames: z.array(z.string().min(1).max(253)).default([]),
    })
    .strict(),
]);
export type TlsSettings = z.infer<typeof tlsSettingsSchema>;
export type TlsSettingsInput = z.input<typeof tlsSettingsSchema>;

/** The conventional MQTT-over-TLS port, the embedded broker's default when TLS is on. */
export const DEFAULT_MQTTS_PORT = 8883;
