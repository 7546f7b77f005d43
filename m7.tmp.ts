import { parseTemplatePart } from './src/render/template-parse.js';
import { templateVariables } from './src/render/template-variables.js';
function cpu(fn: () => unknown, reps = 7) { let b = Infinity; for (let i = 0; i < reps; i++) { const s = process.cpuUsage(); fn(); const d = process.cpuUsage(s); b = Math.min(b, (d.user + d.system) / 1000); } return b.toFixed(1); }
const t = '{{#*inline "B"}}{{x}}{{/inline}}{{#*inline "A"}}{{#if c}}' + '{{>B}}'.repeat(1600) + '{{/if}}{{/inline}}' + '{{>A}}'.repeat(1600);
console.log('parse only', cpu(() => parseTemplatePart(t, { tokens: 20000 })), 'full', cpu(() => templateVariables({ Text: t }, { inline: false })));
const t2 = Array.from({ length: 2400 }, (_, i) => `{{a${i}}} x`).join('');
console.log('2400 vars: parse only', cpu(() => parseTemplatePart(t2, { tokens: 20000 })), 'full', cpu(() => templateVariables({ Text: t2 }, { inline: false })));
