// The Pulsar admin REST API (/admin/v2) on Node's fetch: the calls a blackboard run needs (topics,
// subscriptions, backlog stats, namespaces, last message ids). Part of the one door to Pulsar
// (brokers/pulsar/client.ts re-exports it).
import { qs, topicPath, type TopicRef } from './ws.ts';

export class PulsarAdminError extends Error {
  override name = 'PulsarAdminError';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export interface SubscriptionStats {
  msgBacklog: number;
  unackedMessages: number;
  type: string;
  consumers: { consumerName?: string; unackedMessages?: number; msgOutCounter?: number; availablePermits?: number }[];
  msgRateOut?: number;
  msgRateRedeliver?: number;
  [k: string]: unknown;
}

export interface TopicStats {
  msgInCounter: number;
  msgOutCounter?: number;
  storageSize?: number;
  backlogSize?: number;
  publishers: { producerName?: string; msgRateIn?: number }[];
  subscriptions: Record<string, SubscriptionStats>;
  partitions?: Record<string, TopicStats>;
  metadata?: { partitions: number };
  [k: string]: unknown;
}

export class PulsarAdmin {
  constructor(
    /** e.g. http://127.0.0.1:28080 */
    readonly webServiceUrl: string,
    private readonly timeoutMs = 30_000,
  ) {}

  async request(method: string, path: string, body?: unknown, okStatuses: number[] = []): Promise<{ status: number; json: unknown; text: string }> {
    const res = await fetch(`${this.webServiceUrl}${path}`, {
      method,
      headers: body !== undefined ? { 'content-type': 'application/json' } : undefined,
      body: body !== undefined ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const text = await res.text();
    if (!res.ok && !okStatuses.includes(res.status)) {
      throw new PulsarAdminError(`${method} ${path}: HTTP ${res.status} ${text.slice(0, 300)}`, res.status);
    }
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, json, text };
  }

  /** PUT /admin/v2/persistent/{t}/{ns}/{topic}/partitions, body = count. Returns false if it already existed. */
  async createPartitionedTopic(topic: string | TopicRef, partitions: number): Promise<boolean> {
    const r = await this.request('PUT', `/admin/v2/${topicPath(topic)}/partitions`, partitions, [409]);
    return r.status !== 409;
  }

  /** PUT /admin/v2/persistent/{t}/{ns}/{topic}. Returns false if it already existed. */
  async createTopic(topic: string | TopicRef): Promise<boolean> {
    const r = await this.request('PUT', `/admin/v2/${topicPath(topic)}`, undefined, [409]);
    return r.status !== 409;
  }

  /** Partition count (0 = not a partitioned topic). */
  async partitions(topic: string | TopicRef): Promise<number> {
    const r = await this.request('GET', `/admin/v2/${topicPath(topic)}/partitions`);
    return (r.json as { partitions: number }).partitions;
  }

  /** Deletes a partitioned (all partitions) or non-partitioned topic; force closes producers/consumers. False if absent. */
  async deleteTopic(topic: string | TopicRef, opts: { force?: boolean } = {}): Promise<boolean> {
    const n = await this.partitions(topic).catch(() => 0);
    const suffix = n > 0 ? '/partitions' : '';
    const r = await this.request('DELETE', `/admin/v2/${topicPath(topic)}${suffix}${qs({ force: opts.force ?? true })}`, undefined, [404]);
    return r.status !== 404;
  }

  /**
   * GET /admin/v2/brokers/configuration/runtime: the broker's effective settings, as strings.
   * (`/brokers/runtimeConfiguration` is not it: that path reads as a cluster name and lists the
   * cluster's brokers, an array.)
   */
  async runtimeConfiguration(): Promise<Record<string, string>> {
    const json = (await this.request('GET', '/admin/v2/brokers/configuration/runtime')).json;
    if (!json || typeof json !== 'object' || Array.isArray(json)) throw new Error(`pulsar admin: runtime configuration is not an object: ${JSON.stringify(json).slice(0, 120)}`);
    return json as Record<string, string>;
  }

  /** Topics in a namespace (persistent, including partitions). */
  async listTopics(namespace = 'public/default'): Promise<string[]> {
    return (await this.request('GET', `/admin/v2/persistent/${namespace}`)).json as string[];
  }

  async listPartitionedTopics(namespace = 'public/default'): Promise<string[]> {
    return (await this.request('GET', `/admin/v2/persistent/${namespace}/partitioned`)).json as string[];
  }

  /** Stats of a topic; for a partitioned topic the aggregate (with per-partition stats when perPartition). */
  async topicStats(topic: string | TopicRef, opts: { perPartition?: boolean } = {}): Promise<TopicStats> {
    const n = await this.partitions(topic).catch(() => 0);
    const path = n > 0 ? `/admin/v2/${topicPath(topic)}/partitioned-stats${qs({ perPartition: opts.perPartition ?? false })}` : `/admin/v2/${topicPath(topic)}/stats`;
    return (await this.request('GET', path)).json as TopicStats;
  }

  /** Aggregate stats of a topic known to be partitioned (one request; topicStats asks for the partition count first). */
  async partitionedStats(topic: string | TopicRef): Promise<TopicStats> {
    return (await this.request('GET', `/admin/v2/${topicPath(topic)}/partitioned-stats`)).json as TopicStats;
  }

  /**
   * Id of the last message of a non-partitioned topic or of one partition (`x-partition-i`);
   * `entryId` is -1 when nothing was ever written to its current ledger.
   */
  async lastMessageId(topic: string | TopicRef): Promise<{ ledgerId: number; entryId: number; partitionIndex?: number }> {
    return (await this.request('GET', `/admin/v2/${topicPath(topic)}/lastMessageId`)).json as { ledgerId: number; entryId: number; partitionIndex?: number };
  }

  /** Queue depth of a subscription: msgBacklog (not yet acked, includes delivered-unacked). 0 if the subscription is absent. */
  async backlog(topic: string | TopicRef, subscription: string): Promise<{ backlog: number; unacked: number }> {
    const s = await this.topicStats(topic);
    const sub = s.subscriptions?.[subscription];
    return { backlog: sub?.msgBacklog ?? 0, unacked: sub?.unackedMessages ?? 0 };
  }

  async subscriptions(topic: string | TopicRef): Promise<string[]> {
    return (await this.request('GET', `/admin/v2/${topicPath(topic)}/subscriptions`)).json as string[];
  }

  /** Creates a durable subscription at `position` (default latest); e.g. on a DLQ topic so its messages are retained. False if it existed. */
  async createSubscription(topic: string | TopicRef, subscription: string, position: 'latest' | 'earliest' = 'latest'): Promise<boolean> {
    const body = position === 'earliest' ? { ledgerId: -1, entryId: -1, partitionIndex: -1 } : undefined;
    const r = await this.request('PUT', `/admin/v2/${topicPath(topic)}/subscription/${encodeURIComponent(subscription)}`, body, [409]);
    return r.status !== 409;
  }

  async deleteSubscription(topic: string | TopicRef, subscription: string): Promise<void> {
    await this.request('DELETE', `/admin/v2/${topicPath(topic)}/subscription/${encodeURIComponent(subscription)}${qs({ force: true })}`, undefined, [404]);
  }

  /** PUT /admin/v2/namespaces/{tenant}/{ns}. False if it already existed. */
  async createNamespace(namespace: string): Promise<boolean> {
    const r = await this.request('PUT', `/admin/v2/namespaces/${namespace}`, undefined, [409]);
    return r.status !== 409;
  }

  /** POST /admin/v2/namespaces/{ns}/deduplication (true/false). */
  async setNamespaceDeduplication(namespace: string, enabled: boolean): Promise<void> {
    await this.request('POST', `/admin/v2/namespaces/${namespace}/deduplication`, enabled);
  }

  async getNamespaceDeduplication(namespace: string): Promise<boolean | undefined> {
    const r = await this.request('GET', `/admin/v2/namespaces/${namespace}/deduplication`, undefined, [404]);
    return r.json as boolean | undefined;
  }

  /** Topic-level policy (topicLevelPoliciesEnabled, default on in 4.0). */
  async setTopicDeduplication(topic: string | TopicRef, enabled: boolean): Promise<void> {
    await this.request('POST', `/admin/v2/${topicPath(topic)}/deduplicationEnabled`, enabled);
  }

  /** GET /admin/v2/brokers/health: the broker's own produce/consume check on its heartbeat namespace. */
  async health(): Promise<boolean> {
    const r = await this.request('GET', '/admin/v2/brokers/health', undefined, [500, 503, 404]);
    return r.status === 200 && r.text.trim() === 'ok';
  }

  async clusters(): Promise<string[]> {
    return (await this.request('GET', '/admin/v2/clusters')).json as string[];
  }
}
