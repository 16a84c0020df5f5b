// Arrival processes: when each seed input is meant to arrive (ms since run start). Open-loop:
// the schedule is fixed before the run, so a slow system cannot slow its own arrivals.
import { exponential, keyedRng } from '../core/random.ts';
import type { ParamDefs } from '../core/params.ts';
import type { Task, WorkloadSpec } from './spec.ts';

/** A task and the time it is meant to arrive (ms since the measured window opened). */
export interface Arrival {
  index: number;
  task: Task;
  intendedAtMs: number;
}

export function arrivalSchedule(w: WorkloadSpec, seed: number): number[] {
  const a = w.arrival;
  const n = w.tasks.length;
  if (a.kind === 'all-at-once') return new Array(n).fill(0);
  if (!(a.ratePerSec > 0)) throw new Error(`workload ${w.name}: ${a.kind} arrivals need ratePerSec > 0`);
  const out: number[] = [];
  const rng = keyedRng(seed, 'arrivals', w.name);
  let t = 0;
  for (let i = 0; i < n; i++) {
    out.push(t);
    t += a.kind === 'uniform' ? 1000 / a.ratePerSec : exponential(rng, a.ratePerSec / 1000);
  }
  return out;
}

export { sleepUntil } from '../core/time.ts';

/** The arrival parameters every workload takes. */
export const ARRIVAL_PARAMS = {
  arrival: { type: 'string', default: 'all-at-once', choices: ['all-at-once', 'poisson', 'uniform'], doc: 'arrival process of tasks' },
  ratePerSec: { type: 'number', default: 10, min: 0, unit: 'tasks/s', doc: 'arrival rate for poisson/uniform arrivals' },
} as const satisfies ParamDefs;

export function arrivalFrom(p: { arrival: string; ratePerSec: number }) {
  return p.arrival === 'all-at-once'
    ? ({ kind: 'all-at-once' } as const)
    : ({ kind: p.arrival as 'poisson' | 'uniform', ratePerSec: p.ratePerSec });
}
