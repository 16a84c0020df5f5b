// Time series sampled during a run: RSS, heap, queue depth (pending + in-flight), event-loop lag.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { QueueDepth } from '../../systems/types.ts';

export interface Sample {
  tMs: number;
  metric: 'rss_mb' | 'heap_mb' | 'queue_pending' | 'queue_in_flight' | string;
  value: number;
}

export class Sampler {
  readonly samples: Sample[] = [];
  private timer?: NodeJS.Timeout;
  private probe: () => QueueDepth = () => ({ pending: 0, inFlight: 0 });
  private rssPeak = 0;
  private readonly loop = monitorEventLoopDelay({ resolution: 10 });
  private extra: (() => Record<string, number>)[] = [];

  constructor(private readonly clock: () => number, private readonly everyMs = 25) {}

  setProbe(p: () => QueueDepth) { this.probe = p; }
  /** Extra gauges (e.g. broker JVM CPU/RSS) sampled with the rest. */
  addGauge(g: () => Record<string, number>) { this.extra.push(g); }

  start(): void {
    this.loop.enable();
    this.sample();
    this.timer = setInterval(() => this.sample(), this.everyMs);
    this.timer.unref();
  }

  sample(): void {
    const t = this.clock();
    const m = process.memoryUsage();
    const rss = m.rss / 1048576;
    if (rss > this.rssPeak) this.rssPeak = rss;
    const q = this.probe();
    this.samples.push(
      { tMs: t, metric: 'rss_mb', value: rss },
      { tMs: t, metric: 'heap_mb', value: m.heapUsed / 1048576 },
      { tMs: t, metric: 'queue_pending', value: q.pending },
      { tMs: t, metric: 'queue_in_flight', value: q.inFlight },
    );
    for (const g of this.extra) for (const [k, v] of Object.entries(g())) this.samples.push({ tMs: t, metric: k, value: v });
  }

  private stopped?: { rssPeakMb: number; eventLoopP99Ms: number; eventLoopMaxMs: number; queuePeak: number };

  /** Take a last sample and stop; later calls return the same summary (a run may end measuring early). */
  stop(): { rssPeakMb: number; eventLoopP99Ms: number; eventLoopMaxMs: number; queuePeak: number } {
    if (this.stopped) return this.stopped;
    clearInterval(this.timer);
    this.sample();
    this.loop.disable();
    let queuePeak = 0;
    for (const s of this.samples) if (s.metric === 'queue_pending' && s.value > queuePeak) queuePeak = s.value;
    this.stopped = {
      rssPeakMb: this.rssPeak,
      eventLoopP99Ms: this.loop.count ? this.loop.percentile(99) / 1e6 : 0,
      eventLoopMaxMs: this.loop.count ? this.loop.max / 1e6 : 0,
      queuePeak,
    };
    return this.stopped;
  }
}
