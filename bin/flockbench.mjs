#!/usr/bin/env node
// Launcher: load the TypeScript CLI in this very process (tsx's loader), so `npx flockbench`
// works right after `npm install` and a signal reaches the command directly: no wrapper
// process to forward it or to be left behind. The parent pid is read before anything loads:
// if a wrapper (npx's `sh -c`) dies meanwhile, the CLI still notices it was orphaned.
const parentPid = process.ppid;
const { register } = await import('tsx/esm/api');
register();
const { main } = await import('../cli/main.ts');
process.exit(await main(process.argv, { parentPid }));
