import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { KAFKA_VERSION, kafkaBootstrap, kafkaJvmArgs, kafkaPorts, kafkaServerProperties, quorumVoters, randomKafkaClusterId } from './config.ts';

const props = (s: string) => Object.fromEntries(s.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(/=(.*)/s).slice(0, 2)));

describe('kafka config', () => {
  it('pins the same version as scripts/kafka/pom.xml', () => {
    const pom = readFileSync(new URL('../../scripts/kafka/pom.xml', import.meta.url), 'utf8');
    expect(pom).toContain(`<kafka.version>${KAFKA_VERSION}</kafka.version>`);
  });

  it('single node uses 9092/9093 and RF 1 for every internal topic', () => {
    expect(kafkaBootstrap(1)).toEqual(['127.0.0.1:9092']);
    const p = props(kafkaServerProperties(1, 0, '/tmp/x'));
    expect(p['controller.quorum.voters']).toBe('1@127.0.0.1:9093');
    expect(p['offsets.topic.replication.factor']).toBe('1');
    expect(p['transaction.state.log.replication.factor']).toBe('1');
    expect(p['transaction.state.log.min.isr']).toBe('1');
    expect(p['group.initial.rebalance.delay.ms']).toBe('0');
    expect(p['process.roles']).toBe('broker,controller');
    expect(p.listeners).toBe('PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093');
    expect(p['auto.create.topics.enable']).toBe('false');
  });

  it('three nodes get static voters, RF 3 and min ISR 2', () => {
    expect(kafkaPorts(3).map((p) => p.brokerPort)).toEqual([19092, 29092, 39092]);
    expect(quorumVoters(3)).toBe('1@127.0.0.1:19093,2@127.0.0.1:29093,3@127.0.0.1:39093');
    const p = props(kafkaServerProperties(3, 2, '/d'));
    expect(p['node.id']).toBe('3');
    expect(p['advertised.listeners']).toBe('PLAINTEXT://127.0.0.1:39092');
    expect(p['default.replication.factor']).toBe('3');
    expect(p['min.insync.replicas']).toBe('2');
    expect(p['transaction.state.log.min.isr']).toBe('2');
    expect(() => kafkaServerProperties(3, 3, '/d')).toThrow();
  });

  it('cluster ids look like kafka-storage random-uuid output', () => {
    for (let i = 0; i < 200; i++) {
      const id = randomKafkaClusterId();
      expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
    }
  });

  it('keeps the heap small and points log4j at the node config', () => {
    const a = kafkaJvmArgs({ libsDir: '/l', log4jFile: '/n/log4j.properties', logsDir: '/n' });
    expect(a).toContain('-Xmx384m');
    expect(a).toContain('-Dlog4j.configuration=file:/n/log4j.properties');
    expect(a.slice(-2)).toEqual(['-cp', '/l/*']);
  });
});
