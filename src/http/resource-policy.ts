// The `resources` policy: may this principal name these SES account resources (templates, configuration sets…)?
import type { ValidationDetail } from '../errors.js';
import type { Principal, ResourceGrants, ResourceList, SendBulkEmailRequest } from '../types.js';
import type { RouteContext } from './context.js';
import type { AcceptStep } from './draft.js';
import { policyStep } from './policy-step.js';

/** Each resource field of a request: where it is, which grant covers it, and what to call it in a message. */
const FIELDS: {
  path: string;
  grant: keyof ResourceGrants;
  what: string;
  value: (request: SendBulkEmailRequest) => string | undefined;
}[] = [
  {
    path: '/DefaultContent/Template/TemplateName',
    grant: 'templates',
    what: 'the template',
    value: (r) => r.DefaultContent.Template?.TemplateName,
  },
  {
    path: '/DefaultContent/Template/TemplateArn',
    grant: 'templates',
    what: 'the template',
    value: (r) => r.DefaultContent.Template?.TemplateArn,
  },
  {
    path: '/ConfigurationSetName',
    grant: 'configurationSets',
    what: 'the configuration set',
    value: (r) => r.ConfigurationSetName,
  },
  { path: '/TenantName', grant: 'tenants', what: 'the tenant', value: (r) => r.TenantName },
  { path: '/EndpointId', grant: 'endpoints', what: 'the endpoint', value: (r) => r.EndpointId },
];

function allows(list: ResourceList | undefined, value: string): boolean {
  if (list === undefined) return false; // a kind left out of the grants allows none
  if (list === '*') return true;
  if (!Array.isArray(list)) {
    throw new TypeError(
      'resources() must give each of templates, configurationSets, tenants, endpoints as a list of names or ARNs, or "*"',
    );
  }
  return list.includes('*') || list.includes(value);
}

/**
 * Every resource the request names that the grants do not cover, as `{ path, message }`. Decided from the request
 * alone: nothing is looked up, so the answer is the same whether or not the resource exists.
 */
export function resourceViolations(request: SendBulkEmailRequest, grants: ResourceGrants): ValidationDetail[] {
  const problems: ValidationDetail[] = [];
  for (const field of FIELDS) {
    const value = field.value(request);
    if (value !== undefined && !allows(grants[field.grant], value)) {
      problems.push({
        path: field.path,
        message: `you may not use ${field.what} ${JSON.stringify(value.slice(0, 256))}`,
      });
    }
  }
  return problems;
}

/** The accept step: 403 FORBIDDEN naming each refused field, before resolveTemplate and any GetEmailTemplate. */
export function resourcesStep<P extends Principal>(ctx: RouteContext<P>): AcceptStep<P> | undefined {
  return policyStep(ctx.config.resources, resourceViolations);
}
