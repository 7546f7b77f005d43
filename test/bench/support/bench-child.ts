// Child process that runs one benchmark module (argv[2], a file name in test/bench) so each starts from a fresh process.

import type { Bench, BenchContext } from './result.js';
import { serve } from './rpc.js';

serve({
  async run(args: { file: string; ctx: BenchContext }) {
    const mod = (await import(new URL(`../${args.file}`, import.meta.url).href)) as { run: Bench };
    const t0 = performance.now();
    const out = await mod.run(args.ctx);
    return { ...out, durationMs: Math.round(performance.now() - t0) };
  },
});
