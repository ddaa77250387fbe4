/**
 * @module console/pages/models/version-actions
 * A version's status change from its page (approve, deprecate, revoke). The API decides whether
 * the caller may and whether the change is allowed (revoked is final); the page says what happened.
 */
import type { ActionHandler } from '../../page-context.js';
import { versionHref } from './model-data.js';

const STATUSES = ['approved', 'deprecated', 'revoked'] as const;

export const setVersionStatus: ActionHandler = async (ctx, form) => {
  const name = ctx.params['name']!;
  const version = Number(ctx.params['version']);
  const back = versionHref(name, version);
  const status = STATUSES.find((s) => s === form['status']);
  if (!Number.isSafeInteger(version) || version < 1)
    return {
      redirect: '/models',
      flash: { kind: 'error', text: `"${ctx.params['version']}" is not a version number` },
    };
  if (!status) return { redirect: back, flash: { kind: 'error', text: 'choose approve, deprecate or revoke' } };
  const reason = form['reason']?.trim();
  const res = await ctx.api.setModelStatus({
    params: { name, version },
    body: { status, ...(reason ? { reason: reason.slice(0, 1024) } : {}) },
  });
  const text = !res.changed
    ? `${name} v${version} was already ${status}`
    : status === 'revoked'
      ? `${name} v${version} is revoked${res.removedFrom.length ? ` and was removed from ${res.removedFrom.length} device(s)` : ''}`
      : `${name} v${version} is ${status}`;
  return { redirect: back, flash: { kind: 'ok', text } };
};
