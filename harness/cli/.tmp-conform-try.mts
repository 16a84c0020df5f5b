import { Command } from 'commander';
import { registerConformCommand } from './conform-command.ts';
const p = new Command('flockbench'); registerConformCommand(p);
await p.parseAsync(['node', 'x', 'conform', 'review-analysis', '-p', 'analysts=8', '-p', 'items=2', '--latency-scale', '0.01']);
