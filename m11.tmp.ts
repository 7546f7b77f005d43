import { templateVariables } from './src/render/template-variables.js';
const cpu = (fn: () => unknown) => { let best = Infinity; for (let i = 0; i < 6; i++) { const c = process.cpuUsage(); fn(); const d = process.cpuUsage(c); best = Math.min(best, (d.user + d.system) / 1000); } return best.toFixed(1); };
let n = 0;
function chain(length: number): string {
  const tag = `_${n++}`;
  let text = '{{#*inline "p0"}}{{leaf}}{{/inline}}';
  for (let i = 1; i < length; i++) text += `{{#*inline "p${i}${tag}"}}{{> p${i - 1}${i > 1 ? tag : ''}}}{{/inline}}`;
  return `${text}{{> p${length - 1}${tag}}}`;
}
const shapes: [string, () => string][] = [
  ['chain 360 (under tokens)', () => chain(360)],
  ['dense vars 1300', () => Array.from({ length: 1300 }, (_, i) => `{{a${i}_${n++}}}`).join('')],
  ['dense helpers 990', () => Array.from({ length: 990 }, (_, i) => `{{a${i} y${n++}}}`).join('')],
  ['depth 99 + 1000 vars', () => '{{#if a}}'.repeat(99) + Array.from({ length: 1000 }, (_, i) => `{{a${i}_${n++}}}`).join('') + '{{/if}}'.repeat(99)],
  ['issue 66KB', () => `{{#*inline "B${n++}"}}{{x}}{{/inline}}{{#*inline "A"}}{{#if c}}${'{{>B}}'.repeat(6000)}{{/if}}{{/inline}}${'{{>A}}'.repeat(5000)}`],
  ['hash-key scopes (visits)', () => `{{#*inline "B"}}${Array.from({ length: 300 }, (_, i) => `{{v${i}_${n++}}}`).join('')}{{/inline}}${Array.from({ length: 300 }, (_, i) => `{{> B k${i}=1}}`).join('')}`],
];
for (const [label, make] of shapes) for (const inline of [true, false]) {
  const r = templateVariables({ Text: make() }, { inline });
  console.log(label.padEnd(28), inline ? 'inline' : 'stored', cpu(() => templateVariables({ Text: make() }, { inline })), 'ms cpu', r.tooComplex?.reason ?? `ok vars ${r.variables.length} problems ${r.unsupported.length}+${r.unlisted ?? 0}`);
}
