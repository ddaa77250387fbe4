/**
 * @module console/pages/rollouts/rollout-actions
 * The rollout pages' actions: preview (back to the form with the computed waves), create (then
 * to the new rollout's page), and pause, resume, abort, roll back, promote on a rollout. Each
 * calls the API as the logged-in caller, whose role decides and whose name is audited.
 */
import type { ActionHandler } from '../../page-context.js';
import { describeFailure } from '../../page-context.js';
import { buildRolloutRequest, formQuery, readRolloutForm } from './rollout-form.js';
import { rolloutHref } from './rollout-bits.js';

const formPage = (query: URLSearchParams) => `/rollouts/new?${query.toString()}`;

/** Back to the form, filled in as sent, with the waves computed (the page asks the API). */
export const previewRollout: ActionHandler = async (_ctx, form) => {
  const query = formQuery(readRolloutForm((k) => form[k]));
  query.set('preview', '1');
  return { redirect: formPage(query) };
};

export const createRollout: ActionHandler = async (ctx, form) => {
  const values = readRolloutForm((k) => form[k]);
  const back = formPage(formQuery(values));
  const built = buildRolloutRequest(values);
  if (!built.ok) return { redirect: back, flash: { kind: 'error', text: built.errors.join('; ') } };
  try {
    const { rollout } = await ctx.api.createRollout({ body: built.request });
    return {
      redirect: rolloutHref(rollout.id),
      flash: {
        kind: 'ok',
        text: `Rollout ${rollout.id} started: ${rollout.model} v${rollout.version} to ${rollout.devices} device(s) in ${rollout.waveCount} wave(s)`,
      },
    };
  } catch (err) {
    return { redirect: back, flash: { kind: 'error', text: `not created: ${describeFailure(err)}` } };
  }
};

const DONE: Record<'pause' | 'resume' | 'abort' | 'rollback' | 'promote', string> = {
  pause: 'is paused: no device gets the candidate and no wave advances until you resume it',
  resume: 'carries on: earlier failures are acknowledged and live error is judged from now on',
  abort: 'is aborted: devices keep what they have',
  rollback: 'is rolled back: devices given the candidate return to their previous version',
  promote: 'is promoted: the candidate goes on to the rest of the target',
};

function operate(verb: keyof typeof DONE): ActionHandler {
  return async (ctx, form) => {
    const id = ctx.params['id']!;
    const reason = form['reason']?.trim().slice(0, 500);
    await ctx.api.rolloutAction({ params: { id, verb }, body: reason ? { reason } : {} });
    return { redirect: rolloutHref(id), flash: { kind: 'ok', text: `Rollout ${id} ${DONE[verb]}.` } };
  };
}

export const pauseRollout = operate('pause');
export const resumeRollout = operate('resume');
export const abortRollout = operate('abort');
export const rollbackRollout = operate('rollback');
export const promoteRollout = operate('promote');
