import { describe, expect, it } from 'vitest';
import { kafkaPorts } from '../kafka/config.ts';
import { applyOverrides, cachePlan, MAX_PULSAR_PORT_OFFSET, pulsarJvmArgs, pulsarPortOffset, pulsarPorts, renderTemplate, standaloneArgs, standaloneConf } from './config.ts';

const ports = { brokerServicePort: 21650, webServicePort: 21080, bookiePort: 21181 };

describe('standaloneConf', () => {
  it('fills every placeholder of the template', () => {
    const conf = standaloneConf({ ports });
    expect(conf).not.toMatch(/\$\{/);
    expect(conf).toMatch(/^brokerServicePort=21650$/m);
    expect(conf).toMatch(/^webServicePort=21080$/m);
    expect(conf).toMatch(/^webSocketServiceEnabled=true$/m);
    expect(conf).toMatch(/^managedLedgerDefaultAckQuorum=1$/m);
    expect(conf).toMatch(/^journalSyncData=false$/m);
    // The blackboard's producers rely on these.
    expect(conf).toMatch(/^brokerDeduplicationEnabled=true$/m);
    expect(conf).toMatch(/^brokerDeleteInactiveTopicsEnabled=false$/m);
  });

  it('never repeats a key (BookKeeper would read a repeated key as a list)', () => {
    const conf = standaloneConf({ ports, overrides: { journalSyncData: true, brokerDeduplicationEnabled: false, someNewKey: 7 } });
    const keys = conf.split('\n').filter((l) => /^[A-Za-z]/.test(l)).map((l) => l.split('=')[0]);
    expect(new Set(keys).size).toBe(keys.length);
    expect(conf).toMatch(/^journalSyncData=true$/m);
    expect(conf).toMatch(/^someNewKey=7$/m);
  });

  it('derives caches from direct memory', () => {
    expect(cachePlan({ heapMb: 512, directMb: 512 })).toEqual({ managedLedgerCacheMb: 64, writeCacheMb: 64, readCacheMb: 32, rocksDbBlockCacheBytes: 16 * 1024 * 1024 });
  });
});

describe('renderTemplate / applyOverrides', () => {
  it('rejects a placeholder without a value', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the config template's placeholder syntax is what is tested
    expect(() => renderTemplate('a=${x}', {})).toThrow(/no value/);
  });
  it('replaces in place and appends new keys', () => {
    expect(applyOverrides('a=1\nb=2\n', { b: 3, c: 4 })).toBe('a=1\nb=3\n\n### --- overrides --- ###\nc=4\n');
  });
});

describe('port plan', () => {
  it("Pulsar's defaults in slot 0, shifted by the offset", () => {
    expect(pulsarPorts(0, 0)).toEqual({ brokerServicePort: 6650, webServicePort: 8080, bookiePort: 3181 });
    expect(pulsarPorts(1, 300)).toEqual({ brokerServicePort: 7450, webServicePort: 8880, bookiePort: 3981 });
  });

  it('cannot collide with any Kafka port, whatever offsets two checkouts pick', () => {
    const pulsarMax = Math.max(...[0, 1].map((slot) => Math.max(...Object.values(pulsarPorts(slot as 0 | 1, MAX_PULSAR_PORT_OFFSET)))));
    const kafkaMin = Math.min(...([1, 3] as const).flatMap((n) => kafkaPorts(n, 0).flatMap((p) => [p.brokerPort, p.controllerPort])));
    expect(pulsarMax).toBeLessThan(kafkaMin);
  });

  it('slots and offsets never share a port between two plans unless both are equal', () => {
    const seen = new Map<number, string>();
    for (const slot of [0, 1] as const) {
      for (let offset = 0; offset <= MAX_PULSAR_PORT_OFFSET; offset++) {
        for (const port of Object.values(pulsarPorts(slot, offset))) {
          const who = `${slot}/${offset}`;
          expect(seen.get(port) ?? who).toBe(who);
          seen.set(port, who);
        }
      }
    }
  });

  it('reads FLOCKBENCH_PULSAR_PORT_OFFSET and refuses a bad one', () => {
    expect(pulsarPortOffset({})).toBe(0);
    expect(pulsarPortOffset({ FLOCKBENCH_PULSAR_PORT_OFFSET: '300' })).toBe(300);
    expect(() => pulsarPortOffset({ FLOCKBENCH_PULSAR_PORT_OFFSET: '500' })).toThrow(/0\.\.499/);
    expect(() => pulsarPortOffset({ FLOCKBENCH_PULSAR_PORT_OFFSET: 'x' })).toThrow(/FLOCKBENCH_PULSAR_PORT_OFFSET/);
  });
});

describe('JVM command line', () => {
  it('has the upstream flags and drivers', () => {
    const a = pulsarJvmArgs({ libsDir: '/l', log4jFile: '/x/log4j2.xml', logDir: '/x' });
    expect(a).toContain('-Dio.netty.tryReflectionSetAccessible=true');
    expect(a).toContain('java.base/sun.net=ALL-UNNAMED');
    expect(a).toContain('-Dbookkeeper.metadata.bookie.drivers=org.apache.pulsar.metadata.bookkeeper.PulsarMetadataBookieDriver');
    expect(a).toContain('-Xmx512m');
    expect(a.slice(-2)).toEqual(['-cp', '/l/*']);
  });
  it('passes data dirs and the bookie port to the standalone', () => {
    expect(standaloneArgs({ confFile: '/c', dataDir: '/d', bookiePort: 21181 })).toEqual([
      '--config', '/c', '-nfw', '-nss', '--metadata-dir', '/d/metadata', '--bookkeeper-dir', '/d/bookkeeper', '--bookkeeper-port', '21181', '--num-bookies', '1', '--advertised-address', '127.0.0.1',
    ]);
  });
});
