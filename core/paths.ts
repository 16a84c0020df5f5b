// Where the checkout is: caches, broker state, the venv and scripts are found from here, so
// no module computes the root from its own depth.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
