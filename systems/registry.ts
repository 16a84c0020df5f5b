// Registered systems: add one by copying a folder under systems/ and adding one entry here.
// Entries load their implementation lazily, so listing systems or running one never pays
// for importing the others (LangGraph, broker clients).
import { UserError } from '../core/errors.ts';
import { blackboardSystem } from './blackboard/system.ts';
import type { System } from './types.ts';

export interface SystemEntry {
  name: string;
  /** One line for `flockbench systems`. */
  description: string;
  /** `memory`, `kafka`, `graph-state`...: the `store` column of its runs. */
  store: string;
  load(): Promise<System>;
}

export const SYSTEMS: SystemEntry[] = [
  {
    name: 'blackboard-eager', store: 'memory',
    description: 'Flock-style blackboard, in-memory store; publish() schedules at once (real Flock 0.5 behaviour)',
    load: async () => blackboardSystem({ name: 'blackboard-eager', mode: 'eager', description: '' }),
  },
  {
    name: 'blackboard-deferred', store: 'memory',
    description: 'Flock-style blackboard, in-memory store; publish() enqueues, run_until_idle() dispatches the batch',
    load: async () => blackboardSystem({ name: 'blackboard-deferred', mode: 'deferred', description: '' }),
  },
  {
    name: 'langgraph-stepwise', store: 'graph-state',
    description: 'LangGraph.js, one node execution per superstep, each superstep its own invoke (the seeds\' baseline)',
    load: async () => (await import('./langgraph/system.ts')).langgraphStepwiseSystem(),
  },
  {
    name: 'langgraph-parallel', store: 'graph-state',
    description: 'LangGraph.js at its best: Send fan-out within supersteps, bounded maxConcurrency, one run for all items',
    load: async () => (await import('./langgraph/system.ts')).langgraphParallelSystem(),
  },
  {
    name: 'blackboard-kafka', store: 'kafka',
    description: 'Flock-style blackboard distributed over Kafka: per-type topics, one consumer group per agent, at-least-once or exactly-once',
    load: async () => (await import('./blackboard-kafka/system.ts')).blackboardKafkaSystem(),
  },
  {
    name: 'flock-real', store: 'flock-memory',
    description: 'The real Flock (PyPI flock-core 0.5.7, Python, out of process): its publish/matching/semaphores/BatchSpec/store, LLM engine replaced by one HTTP call to the simulator',
    load: async () => (await import('./flock-real/system.ts')).flockRealSystem(),
  },
];

export class UnknownSystemError extends UserError {}

export function systemEntry(name: string): SystemEntry {
  const s = SYSTEMS.find((x) => x.name === name);
  if (!s) throw new UnknownSystemError(`unknown system '${name}' (known: ${SYSTEMS.map((x) => x.name).join(', ')})`);
  return s;
}

export async function loadSystem(name: string): Promise<System> {
  return systemEntry(name).load();
}
