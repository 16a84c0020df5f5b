// Reading an artifact off a broker: a record's value must be an artifact of the topic's type
// whose payload fits the type's schema; anything else is poison for the dead-letter path.
// Written once for every broker-backed consumer.
import { validatePayload } from '../../../core/schema.ts';
import type { Artifact, WorkloadSpec } from '../../../workloads/spec.ts';

/** The artifact in `value`, or why it is not one of `type`. */
export function parseArtifact(w: WorkloadSpec, type: string, value: string | undefined): { artifact: Artifact } | { invalid: string } {
  let a: Artifact;
  try {
    a = JSON.parse(value ?? '') as Artifact;
  } catch (e) {
    return { invalid: `invalid JSON: ${(e as Error).message}` };
  }
  if (!a || typeof a !== 'object' || typeof a.id !== 'string' || typeof a.key !== 'string' || typeof a.correlationId !== 'string') {
    return { invalid: 'not an artifact (id, key, correlationId required)' };
  }
  if (a.type !== type) return { invalid: `artifact type ${a.type} on topic of ${type}` };
  const spec = w.types.find((t) => t.name === type);
  if (spec) {
    const err = validatePayload(spec.schema, a.payload);
    if (err) return { invalid: `payload invalid for ${type}: ${err}` };
  }
  return { artifact: a };
}
