import { templateVariables } from './src/render/template-variables.js';
function partialChain(length: number, tag = ''): string {
  let text = '{{#*inline "p0"}}{{leaf}}{{/inline}}';
  for (let i = 1; i < length; i++) text += `{{#*inline "p${i}${tag}"}}{{> p${i - 1}${i > 1 ? tag : ''}}}{{/inline}}`;
  return `${text}{{> p${length - 1}${tag}}}`;
}
for (let r = 0; r < 8; r++) {
  const t = partialChain(900, `_${r}`);
  const c = process.cpuUsage(); const w = performance.now();
  const out = templateVariables({ Text: t, Subject: 'Hi {{name}}' }, { inline: true });
  const d = process.cpuUsage(c);
  console.log(r, t.length, 'cpu', ((d.user + d.system) / 1000).toFixed(1), 'wall', (performance.now() - w).toFixed(1), out.tooComplex?.reason, out.unsupported.length, out.unlisted);
}
