// Summarises a V8 .cpuprofile (from BENCH_CPU_PROF=<dir> or node --cpu-prof): self time per package/file and per
// function, and inclusive time of the functions whose location matches a filter.
// Usage: npx tsx test/bench/support/profile-summary.ts <file.cpuprofile> [filter regexp, default "src/"] [rows, default 30]
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

const [file, filterArg = 'src/', rowsArg = '30'] = process.argv.slice(2);
if (!file) {
  console.error('usage: profile-summary.ts <file.cpuprofile> [filter] [rows]');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const filter = new RegExp(filterArg);
const rows = Number(rowsArg);
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const selfById = new Map<number, number>();
profile.samples.forEach((id, i) => {
  selfById.set(id, (selfById.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});

const cwd = `file://${process.cwd()}/`;
const where = (n: Node) => {
  const { functionName, url, lineNumber } = n.callFrame;
  return `${functionName || '(anonymous)'} ${url.replace(cwd, '').replace(/^.*node_modules\//, 'node_modules/')}:${lineNumber + 1}`;
};
const fileOf = (n: Node) => {
  const url = n.callFrame.url.replace(cwd, '');
  const pkg = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return `node_modules/${pkg[1]}`;
  return url || `(${n.callFrame.functionName || 'native'})`;
};

let busy = 0;
const selfByFn = new Map<string, number>();
const selfByFile = new Map<string, number>();
const inclusive = new Map<string, number>();
for (const [id, t] of selfById) {
  const node = byId.get(id) as Node;
  if (node.callFrame.functionName === '(idle)') continue;
  busy += t;
  selfByFn.set(where(node), (selfByFn.get(where(node)) ?? 0) + t);
  selfByFile.set(fileOf(node), (selfByFile.get(fileOf(node)) ?? 0) + t);
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const key = where(byId.get(cur) as Node);
    if (filter.test(key) && !seen.has(key)) {
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + t);
    }
  }
}
const show = (title: string, m: Map<string, number>) => {
  console.log(`\n${title}`);
  for (const [k, t] of [...m].sort((a, b) => b[1] - a[1]).slice(0, rows)) {
    console.log(`${((t / busy) * 100).toFixed(1).padStart(5)} %  ${k}`);
  }
};
console.log(`${file}: ${(busy / 1000).toFixed(0)} ms busy (idle excluded)`);
show('self time by file / package', selfByFile);
show('self time by function', selfByFn);
show(`inclusive time, functions matching /${filterArg}/`, inclusive);
