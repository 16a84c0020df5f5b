// Child process that runs one cell, so each run starts from a fresh heap and its CPU/RSS
// figures are its own. Receives a Cell over IPC, answers with the outcome and its spans.
import { runCell } from './cell.ts';

process.once('message', async (cell) => {
  try {
    const res = await runCell(cell as Parameters<typeof runCell>[0]);
    process.send!({ ok: true, ...res }, () => process.exit(0));
  } catch (e) {
    process.send!({ ok: false, error: e instanceof Error ? e.message : String(e), stack: e instanceof Error ? e.stack : undefined }, () => process.exit(0));
  }
});
