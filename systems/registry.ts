// Registered systems: add one by copying a folder under systems/ and adding one line here.
import { blackboardSystem } from './blackboard/system.ts';
import type { System } from './types.ts';

export const SYSTEMS: System[] = [
  blackboardSystem({ name: 'blackboard-eager', mode: 'eager', description: 'Flock-style blackboard, in-memory store; publish() schedules at once (real Flock 0.5 behaviour)' }),
  blackboardSystem({ name: 'blackboard-deferred', mode: 'deferred', description: 'Flock-style blackboard, in-memory store; publish() enqueues, run_until_idle() dispatches the batch' }),
];

export class UnknownSystemError extends Error {}

export function system(name: string): System {
  const s = SYSTEMS.find((x) => x.name === name);
  if (!s) throw new UnknownSystemError(`unknown system '${name}' (known: ${SYSTEMS.map((x) => x.name).join(', ')})`);
  return s;
}
