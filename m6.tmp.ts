import { templateVariables } from './src/render/template-variables.js';
function cpu(fn: () => unknown, reps = 5) { let b = Infinity; let w = Infinity; for (let i = 0; i < reps; i++) { const s = process.cpuUsage(); const t = performance.now(); fn(); const d = process.cpuUsage(s); b = Math.min(b, (d.user + d.system) / 1000); w = Math.min(w, performance.now() - t); } return `${b.toFixed(1)} ms cpu, ${w.toFixed(1)} ms wall`; }
const run = (label: string, content: object, inline = false) => {
  const r = templateVariables(content, { inline });
  console.log(label.padEnd(40), cpu(() => templateVariables(content, { inline })), '| vars', r.variables.length, 'unsupported', r.unsupported.length, r.unlisted ?? 0, r.tooComplex?.reason ?? '');
};
run('dense helpers 3,300 tags (~9,900 tok)', { Text: Array.from({ length: 3300 }, (_, i) => `{{a${i} y}}`).join('') });
run('dense helpers inline', { Text: Array.from({ length: 3300 }, (_, i) => `{{a${i} y}}`).join('') }, true);
run('dense vars 4,900', { Text: Array.from({ length: 4900 }, (_, i) => `{{a${i}}}`).join('') });
run('depth 99 + 3,200 tags', { Text: '{{#if a}}'.repeat(99) + Array.from({ length: 3200 }, (_, i) => `{{a${i}}}`).join('') + '{{/if}}'.repeat(99) });
run('issue: nested inline partials 66KB', { Text: '{{#*inline "B"}}{{x}}{{/inline}}{{#*inline "A"}}{{#if c}}' + '{{>B}}'.repeat(6000) + '{{/if}}{{/inline}}' + '{{>A}}'.repeat(5000) });
run('issue scaled under cap', { Text: '{{#*inline "B"}}{{x}}{{/inline}}{{#*inline "A"}}{{#if c}}' + '{{>B}}'.repeat(1600) + '{{/if}}{{/inline}}' + '{{>A}}'.repeat(1600) });
let chain = '{{#*inline "p0"}}{{leaf}}{{/inline}}'; for (let i = 1; i < 4900; i++) chain += `{{#*inline "p${i}"}}{{>p${i - 1}}}{{/inline}}`; chain += '{{>p4899}}';
run('chain of 4,900 partials', { Text: chain });
chain = '{{#*inline "p0"}}{{leaf}}{{/inline}}'; for (let i = 1; i < 1000; i++) chain += `{{#*inline "p${i}"}}{{>p${i - 1}}}{{/inline}}`; chain += '{{>p999}}';
run('chain of 1,000 partials', { Text: chain });
let shadow = '{{#*inline "B"}}' + Array.from({ length: 300 }, (_, i) => `{{v${i}}}`).join('') + '{{/inline}}' + Array.from({ length: 1500 }, (_, i) => `{{>B k${i}=1}}`).join('');
run('distinct hash keys x 300-node partial', { Text: shadow });
run('20 MB text', { Text: '{{a1 y}}'.repeat(2_600_000) });
const html = Array.from({ length: 800 }, (_, i) => `<tr><td class="c">Item ${i}</td><td>{{items.${i}.name}}</td><td>{{#if vip}}{{price}}{{/if}}</td></tr>\n`).join('');
run('realistic ~100 KB html, 2,400 tags', { Subject: 'Hi {{name}}', Html: html });
