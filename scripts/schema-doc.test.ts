import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { README, withSchema } from './schema-doc.ts';

describe('results/README.md', () => {
  it('documents the schema as declared (regenerate with: npx tsx scripts/schema-doc.ts)', () => {
    const text = readFileSync(README, 'utf8');
    expect(text).toBe(withSchema(text));
  });
});
