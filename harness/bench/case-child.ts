// One bench case in its own process (forked by measureIsolated): the parent's budgets can then
// stop any run, the first size included, and every case starts from a fresh heap. Reports when
// its first run starts and ends, then the outcome.
import { setMaxListeners } from 'node:events';
import { caseByName } from './cases.ts';
import { measureCase, type CaseMessage } from './bench.ts';

// LangGraph adds one abort listener per running task to an internal signal (removed after).
setMaxListeners(0);
process.on('disconnect', () => process.exit(130));

const send = (m: CaseMessage) => new Promise<void>((resolve) => process.send!(m, () => resolve()));

process.once('message', async (m: { system: string; caseName: string; timeMs: number; maxRunMs: number }) => {
  const outcome = await measureCase(m.system, caseByName(m.caseName), { timeMs: m.timeMs, maxRunMs: m.maxRunMs }, {
    started: () => void send({ type: 'started' }),
    first: (ms) => void send({ type: 'first', ms }),
  });
  await send({ type: 'done', outcome, rssPeakMb: process.resourceUsage().maxRSS / 1024 });
  process.exit(0);
});
