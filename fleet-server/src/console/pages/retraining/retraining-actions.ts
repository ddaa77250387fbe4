/**
 * @module console/pages/retraining/retraining-actions
 * The retraining section's actions: retrain a model now (optionally forced past the cool-down and
 * the daily budget) and cancel a running loop run. Each calls the API as the logged-in caller and
 * comes back with what happened, or with the API's refusal and what to do about it.
 */
import { RestError } from '@edgeloop/protocol/client';
import type { ActionHandler } from '../../page-context.js';
import { links } from './retraining-format.js';

const MODEL = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const LOOP_RUN_ID = /^lr-[0-9a-f]{10}$/;

export const triggerRetraining: ActionHandler = async (ctx, form) => {
  const model = form['model'] ?? '';
  if (!MODEL.test(model))
    return { redirect: '/retraining', flash: { kind: 'error', text: 'choose a model with a policy to retrain' } };
  const force = form['force'] === 'true' || form['force'] === 'on';
  const reason = form['reason']?.trim().slice(0, 500);
  try {
    const { run } = await ctx.api.triggerLoopRun({
      params: { model },
      body: { force, ...(reason ? { reason } : {}) },
    });
    return {
      redirect: links.loopRun(run.id),
      flash: { kind: 'ok', text: `retraining of ${model} started as loop run ${run.id}; its steps follow below` },
    };
  } catch (err) {
    // 409: a run is going, or the guards refuse; the API's reason says which and what to do.
    if (err instanceof RestError && err.status === 409)
      return {
        redirect: '/retraining',
        flash: {
          kind: 'error',
          text: `${model} was not retrained: ${err.reason}${force || !/cool-down|budget/.test(err.reason) ? '' : ' (tick “Force” to start anyway)'}`,
        },
      };
    if (err instanceof RestError && err.status === 503)
      return {
        redirect: '/retraining',
        flash: {
          kind: 'error',
          text: `the retraining loop does not run on this server (${err.reason}); trigger it on the leading server`,
        },
      };
    throw err;
  }
};

export const cancelLoopRun: ActionHandler = async (ctx, form) => {
  const id = ctx.params['id'] ?? '';
  if (!LOOP_RUN_ID.test(id))
    return { redirect: '/retraining', flash: { kind: 'error', text: `"${id}" is not a loop run id (lr-…)` } };
  const reason = form['reason']?.trim().slice(0, 500);
  const { run } = await ctx.api.cancelLoopRun({ params: { id }, body: reason ? { reason } : {} });
  return {
    redirect: links.loopRun(id),
    flash: { kind: 'ok', text: `loop run ${id} is ${run.state}: ${run.reason ?? ''}` },
  };
};
