import { startFuzzTarget } from './test/fuzz/harness.js';
import { bulkBody } from './test/helpers/bodies.js';
function bodyWithText(text: string): string {
  const body = bulkBody(2);
  body.DefaultContent.Template = { TemplateContent: { Subject: 'Hi {{name}}', Text: '@@T@@' }, TemplateData: '{"name":"x"}' };
  return JSON.stringify(body).replace('"@@T@@"', () => JSON.stringify(text));
}
function partialChain(length: number, tag = ''): string {
  let text = '{{#*inline "p0"}}{{leaf}}{{/inline}}';
  for (let i = 1; i < length; i++) text += `{{#*inline "p${i}${tag}"}}{{> p${i - 1}${i > 1 ? tag : ''}}}{{/inline}}`;
  return `${text}{{> p${length - 1}${tag}}}`;
}
const target = await startFuzzTarget();
await target.post(bodyWithText('{{#*inline "p"}}{{#if a}}{{x}}{{/if}}{{/inline}}{{> p}}'), {}, 'dry_run=true');
for (let r = 0; r < 4; r++) {
  const body = bodyWithText(partialChain(900, `_${r}`));
  const c = process.cpuUsage(); const t = performance.now();
  const reply = await target.post(body, {}, 'dry_run=true');
  const d = process.cpuUsage(c);
  console.log(r, reply.status, 'wall', (performance.now() - t).toFixed(0), 'cpu', ((d.user + d.system) / 1000).toFixed(0), reply.text.slice(0, 150));
}
await target.close();
