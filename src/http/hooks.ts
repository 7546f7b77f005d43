// The app's own hooks as accept steps: validate, authorize and resolveTemplate.
import { forbidden, templateNotFound } from '../errors.js';
import type { Principal } from '../types.js';
import type { RouteContext } from './context.js';
import type { AcceptStep } from './draft.js';

/** `validate(request, ctx)`: the app's extra rules; it throws `validationError()` to refuse. */
export function validateHookStep<P extends Principal>(ctx: RouteContext<P>): AcceptStep<P> | undefined {
  const { validate } = ctx.config;
  if (!validate) return undefined;
  return async ({ hook }) => {
    await validate(hook.request, hook);
  };
}

/** `authorize(ctx)`: `false` or a thrown `forbidden()` → 403. */
export function authorizeStep<P extends Principal>(ctx: RouteContext<P>): AcceptStep<P> | undefined {
  const { authorize } = ctx.config;
  if (!authorize) return undefined;
  return async ({ hook }) => {
    if ((await authorize(hook)) === false) throw forbidden('You are not allowed to send this request');
  };
}

/** `resolveTemplate(template, ctx)`: the complete Template SES gets; nothing → 422 TEMPLATE_NOT_FOUND. */
export function resolveTemplateStep<P extends Principal>(ctx: RouteContext<P>): AcceptStep<P> | undefined {
  const { resolveTemplate } = ctx.config;
  if (!resolveTemplate) return undefined;
  return async (draft) => {
    const { request } = draft;
    const requested = request.DefaultContent.Template ?? {};
    const template = await resolveTemplate(requested, draft.hook);
    if (template === null || template === undefined) {
      throw templateNotFound(requested.TemplateName ?? requested.TemplateArn ?? 'inline');
    }
    draft.request = { ...request, DefaultContent: { ...request.DefaultContent, Template: template } };
  };
}
