// Parameters of flock-real (matrix `systemParams.flock-real`), declared once.
import type { ParamDefs } from '../../core/params.ts';

export const flockRealParams = {
  consoleOutput: { type: 'boolean', default: false, doc: "Flock's rich console output (banners, per-publish rendering)" },
} as const satisfies ParamDefs;
