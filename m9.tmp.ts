import { startFuzzTarget } from './test/fuzz/harness.js';
import { bulkBody } from './test/helpers/bodies.js';
import { monitorEventLoopDelay } from 'node:perf_hooks';
function bodyWithText(text: string): string {
  const body = bulkBody(2);
  body.DefaultContent.Template = { TemplateContent: { Subject: 'Hi {{name}}', Text: '@@T@@' }, TemplateData: '{"name":"x"}' };
  return JSON.stringify(body).replace('"@@T@@"', () => JSON.stringify(text));
}
const target = await startFuzzTarget();
await target.post(bodyWithText('{{#*inline "p"}}{{#if a}}{{x}}{{/if}}{{/inline}}{{> p}}'), {}, 'dry_run=true');
for (let r = 0; r < 6; r++) {
  const text = `{{#*inline "B${r}"}}{{x}}{{/inline}}{{#*inline "A"}}{{#if c}}${`{{>B${r}}}`.repeat(6000)}{{/if}}{{/inline}}${'{{>A}}'.repeat(5000)}`;
  const body = bodyWithText(text);
  const loop = monitorEventLoopDelay({ resolution: 10 }); loop.enable();
  const c = process.cpuUsage(); const t = performance.now();
  const reply = await target.post(body, {}, 'dry_run=true');
  const d = process.cpuUsage(c); loop.disable();
  console.log(r, reply.status, 'wall', (performance.now() - t).toFixed(0), 'cpu', ((d.user + d.system) / 1000).toFixed(0), 'stall', (loop.max/1e6).toFixed(0));
}
await target.close();
