// The drain loop of a broker-backed blackboard, written once: poll until the broker says no
// input is waiting and no consumer holds work, twice in a row (one look can fall between a
// message being stored and a consumer receiving it). A failed consumer fails the run, unless
// the run supervises its consumers (restartFailedWorkers): then it is restarted the way a
// supervisor would, within a budget. What "nothing waiting" means is the broker's part: end
// offsets vs positions on Kafka, subscription backlog on Pulsar.

/** What the loop needs of a consumer. */
export interface DrainedConsumer {
  readonly failure?: unknown;
  busy(): boolean;
}

export interface DrainLoopOptions<C extends DrainedConsumer> {
  signal: AbortSignal;
  /** Sleep between looks, ms. */
  pollMs: number;
  /**
   * One look at the broker: true when no input is waiting for any consumer. A throw counts as a
   * monitor error: the look is discarded and the loop carries on (a broker restarting).
   */
  nothingWaiting(): Promise<boolean>;
  /** Refresh the mirrors of consumers in worker processes before they are read. */
  refresh(): Promise<void>;
  /** Every consumer, as of now (restarts replace entries). */
  consumers(): readonly C[];
  /** Restart a failed consumer if the run may (budget, kind); false when it may not. */
  restart?(failed: C): Promise<boolean>;
  /** Extra condition before a look counts as idle (e.g. open transactions resolved). */
  settled?(): Promise<boolean>;
}

export interface DrainLoopResult {
  /** Looks that failed (broker unreachable for a moment). */
  monitorErrors: number;
  /** Looks taken. */
  looks: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolve once the run is idle; throw the first consumer failure that may not be restarted. */
export async function drainUntilIdle<C extends DrainedConsumer>(o: DrainLoopOptions<C>): Promise<DrainLoopResult> {
  const out: DrainLoopResult = { monitorErrors: 0, looks: 0 };
  let idleLooks = 0;
  while (idleLooks < 2) {
    if (o.signal.aborted) throw o.signal.reason;
    await sleep(o.pollMs);
    out.looks++;
    // The broker first, then the consumers: a message stored in between is either counted as
    // waiting or makes a consumer busy.
    let nothingWaiting: boolean;
    try {
      nothingWaiting = await o.nothingWaiting();
    } catch {
      out.monitorErrors++;
      idleLooks = 0;
      continue;
    }
    await o.refresh();
    const failed = o.consumers().find((x) => x.failure);
    if (failed) {
      if (o.restart && (await o.restart(failed))) {
        idleLooks = 0;
        continue;
      }
      throw failed.failure;
    }
    const idle = nothingWaiting && !o.consumers().some((x) => x.busy()) && (o.settled ? await o.settled() : true);
    idleLooks = idle ? idleLooks + 1 : 0;
  }
  return out;
}
