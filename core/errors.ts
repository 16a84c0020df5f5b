// Errors a user can cause. The CLI prints them as one line and exits 2; anything else is a
// failed run (exit 1), with a stack trace under --verbose.
export class UserError extends Error {}

/** One line with the nested causes of an error (client errors keep them in `errors` and `cause`). */
export function describeError(e: unknown): string {
  const seen: string[] = [];
  const walk = (x: unknown, depth: number) => {
    if (!x || depth > 4 || seen.length > 6) return;
    const m = (x as Error).message ?? (typeof x === 'string' ? x : undefined);
    if (m && !seen.includes(m)) seen.push(m);
    for (const c of ((x as { errors?: unknown[] }).errors ?? []).slice(-2)) walk(c, depth + 1);
    walk((x as { cause?: unknown }).cause, depth + 1);
  };
  walk(e, 0);
  return seen.join(' <- ') || String(e);
}
