import { describe, expect, it } from 'vitest';
import type { Cell } from './matrix.ts';
import { byClusterSize, kafkaNodesOf } from './runner.ts';
import { checkKafkaParams } from '../../systems/blackboard-kafka/params.ts';

const cell = (system: string, systemParams: Record<string, unknown>, rep: number): Cell => ({
  matrix: 'm', system, workload: 'map', workloadParams: {}, systemParams, tail: 'calibrated', llmTransport: 'inprocess', llmOptions: {}, rep, seed: rep, latencyScale: 1, timeoutMs: 1000,
});

describe('Kafka cluster sizes in a matrix', () => {
  it('groups cells by the cluster they need, 1-node first, keeping the interleaved order within each', () => {
    const cells = [
      cell('blackboard-kafka', { nodes: 3 }, 1), cell('blackboard-eager', {}, 1), cell('blackboard-kafka', { nodes: 1 }, 1),
      cell('blackboard-kafka', { nodes: 3 }, 2), cell('blackboard-kafka', {}, 2),
    ];
    expect(cells.map(kafkaNodesOf)).toEqual([3, undefined, 1, 3, 1]);
    expect(byClusterSize(cells).map((c) => `${c.system}:${c.systemParams.nodes ?? '-'}:${c.rep}`)).toEqual([
      'blackboard-eager:-:1', 'blackboard-kafka:1:1', 'blackboard-kafka:-:2', 'blackboard-kafka:3:1', 'blackboard-kafka:3:2',
    ]);
  });

  it('a run asks for 1 or 3 nodes and no more replicas than nodes', () => {
    expect(() => checkKafkaParams({ nodes: 3, replicas: 3 })).not.toThrow();
    expect(() => checkKafkaParams({ nodes: 2, replicas: 1 })).toThrow(/1 or 3/);
    expect(() => checkKafkaParams({ nodes: 1, replicas: 3 })).toThrow(/exceeds/);
  });
});
