/**
 * @module console/pages/devices/device-actions
 * The device page's actions. Each calls the API as the logged-in caller (its role decides, its
 * name is audited) and comes back to the device with what happened.
 */
import type { ActionHandler } from '../../page-context.js';

const back = (id: string) => `/devices/${encodeURIComponent(id)}`;

export const disableDevice: ActionHandler = async (ctx) => {
  const id = ctx.params['id']!;
  await ctx.api.disableDevice({ params: { id } });
  return {
    redirect: back(id),
    flash: { kind: 'ok', text: `${id} is disabled: it is disconnected and cannot connect until enabled` },
  };
};

export const enableDevice: ActionHandler = async (ctx) => {
  const id = ctx.params['id']!;
  await ctx.api.enableDevice({ params: { id } });
  return { redirect: back(id), flash: { kind: 'ok', text: `${id} is enabled` } };
};

export const revokeDevice: ActionHandler = async (ctx) => {
  const id = ctx.params['id']!;
  await ctx.api.revokeDeviceCredential({ params: { id } });
  return {
    redirect: back(id),
    flash: { kind: 'ok', text: `${id}'s credential is revoked: it must enroll again to connect` },
  };
};

export const deployToDevice: ActionHandler = async (ctx, form) => {
  const id = ctx.params['id']!;
  const m = /^([^@]+)@(\d+)$/.exec(form['version'] ?? '');
  if (!m) return { redirect: back(id), flash: { kind: 'error', text: 'choose a model version to deploy' } };
  await ctx.api.deploy({ body: { model: m[1]!, version: Number(m[2]), devices: [id] } });
  return {
    redirect: back(id),
    flash: { kind: 'ok', text: `${m[1]} v${m[2]} is assigned to ${id}; the device reports its progress below` },
  };
};
