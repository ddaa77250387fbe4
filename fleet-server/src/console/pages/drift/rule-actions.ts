/**
 * @module console/pages/drift/rule-actions
 * The rule pages' actions, each calling the API as the logged-in caller. Saving a rule the API
 * refuses goes back to the form with the API's reason and what was typed, so nothing is lost.
 */
import type { ActionHandler } from '../../page-context.js';
import { describeFailure, safeLocalPath } from '../../page-context.js';
import { encodeDraft, fieldsToDefinition } from './rule-form.js';

export const saveRule: ActionHandler = async (ctx, form) => {
  const back = safeLocalPath(form['back'], '/drift/rules/new');
  const refused = (text: string) => ({
    redirect: `${back.split('?')[0]}?draft=${encodeDraft(form)}`,
    flash: { kind: 'error' as const, text: `The rule is not saved: ${text}` },
  });
  const { definition, problems } = fieldsToDefinition(form);
  if (problems.length) return refused(problems.join('; '));
  const original = form['original'];
  if (original && original !== definition.rule['name'])
    return refused(`the name of ${original} cannot change here; create a new rule instead`);
  try {
    // The API validates the whole rule; its reason names the field that is wrong.
    const { rule } = await ctx.api.putRule({ body: definition as never });
    return {
      redirect: '/drift/rules',
      flash: { kind: 'ok', text: `Rule ${rule.rule.name} is saved; it is judged from the next evaluation on` },
    };
  } catch (err) {
    return refused(describeFailure(err));
  }
};

export const enableRule: ActionHandler = async (ctx) => {
  const name = ctx.params['name']!;
  await ctx.api.enableRule({ params: { name }, body: { enabled: true } });
  return { redirect: '/drift/rules', flash: { kind: 'ok', text: `${name} is enabled` } };
};

export const disableRule: ActionHandler = async (ctx) => {
  const name = ctx.params['name']!;
  await ctx.api.enableRule({ params: { name }, body: { enabled: false } });
  return {
    redirect: '/drift/rules',
    flash: { kind: 'ok', text: `${name} is disabled: it raises no alert until enabled again` },
  };
};

export const deleteRule: ActionHandler = async (ctx) => {
  const name = ctx.params['name']!;
  await ctx.api.deleteRule({ params: { name } });
  return {
    redirect: '/drift/rules',
    flash: { kind: 'ok', text: `${name} is deleted; a shipped default of that name, if any, applies again` },
  };
};
