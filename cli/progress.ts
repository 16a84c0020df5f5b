// A one-line progress bar on a TTY (stderr); silent otherwise so logs stay clean.
export function progressBar(enabled = process.stderr.isTTY) {
  return (done: number, total: number, label: string) => {
    if (!enabled) return;
    const width = 28;
    const filled = Math.round((done / total) * width);
    process.stderr.write(`\r[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${done}/${total} ${label}`.padEnd(100).slice(0, 100));
    if (done === total) process.stderr.write('\n');
  };
}
