import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { violations } from './layers.ts';

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'fb-layers-'));
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    writeFileSync(join(root, p), text);
  }
  return root;
}

describe('layers', () => {
  it('the checkout obeys the dependency rule: no upward import, no cycle, one Kafka door', () => {
    expect(violations()).toEqual([]);
  });

  it('reports an upward import, a cycle and a stray use of an owned package', () => {
    const root = tree({
      'core/a.ts': "import { x } from '../systems/s.ts';\n",
      'systems/s.ts': 'export const x = 1;\n',
      'harness/p.ts': "import { q } from './q.ts';\nexport const p = 1;\n",
      'harness/q.ts': "import { p } from './p.ts';\nexport const q = 1;\n",
      'systems/k.ts': "import { Admin } from '@platformatic/kafka';\n",
      'brokers/kafka/client.ts': "import { Admin } from '@platformatic/kafka';\n",
      'systems/s.test.ts': "import { p } from '../harness/p.ts';\n",
    });
    const v = violations(root);
    expect(v).toContain('core/a.ts imports systems/s.ts: core (layer 0) may not depend on systems (layer 3)');
    expect(v).toContain('import cycle: harness/p.ts -> harness/q.ts');
    expect(v).toContain('systems/k.ts imports @platformatic/kafka: only brokers/kafka/ may');
    expect(v).toHaveLength(3);
  });
});
