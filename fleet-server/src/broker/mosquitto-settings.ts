/**
 * @module broker/mosquitto-settings
 * Settings for keeping an external Mosquitto's password and ACL files in step with device
 * identity (`mqtt.external.mosquitto` in the fleet config; flags on `edgeloop serve`).
 */
import { z } from 'zod';

/** The fleet server's MQTT username when none is configured; the ACL grants it the whole prefix. */
export const DEFAULT_SERVER_USERNAME = 'edgeloop-server';

export const mosquittoSettingsSchema = z
  .object({
    /** The file named by `password_file` in mosquitto.conf; EdgeLoop owns it and rewrites it whole. */
    passwordFile: z.string().min(1),
    /** The file named by `acl_file`; EdgeLoop owns it and rewrites it whole. */
    aclFile: z.string().min(1),
    /** How Mosquitto learns of a change. Neither: the files are written and the operator reloads. */
    reload: z
      .union([z.object({ pidFile: z.string().min(1) }).strict(), z.object({ command: z.string().min(1) }).strict()])
      .optional(),
    /** Operator-owned `user:hash` lines copied into the password file (other applications' users). */
    includePasswordFile: z.string().min(1).optional(),
    /** Operator-owned ACL lines copied into the ACL file. */
    includeAclFile: z.string().min(1).optional(),
    /** Mode for files created from scratch; an existing file keeps its mode and group. */
    fileMode: z.number().int().min(0).max(0o777).default(0o640),
  })
  .strict();
export type MosquittoSettings = z.infer<typeof mosquittoSettingsSchema>;
export type MosquittoSettingsInput = z.input<typeof mosquittoSettingsSchema>;
