-- H2: do partitioned queues give near-linear throughput gains for independent work? For
-- blackboard-kafka runs: throughput = tasks / makespan (setup -- topic creation, group join -- is
-- excluded from makespan and shown apart as setup_ms) per (mode, partitions, consumers); scaling
-- efficiency = throughput(p) / (p x throughput(1)) at the same mode and consumers (1 = linear;
-- H2's "near-linear" threshold in paper/verdicts.ts is 0.8); the broker JVM's mean CPU and peak
-- RSS from params.broker; and the in-memory blackboard on the same workload as the reference.
-- Run: flockbench sql notebooks/h2_scaling.sql

-- name: throughput
-- Median throughput and broker cost per (mode, partitions, consumers).
WITH k AS (
  SELECT matrix, CAST(params->'workload'->>'items' AS INTEGER) AS items,
         params->'cell'->'systemParams'->>'mode' AS mode,
         CAST(params->'cell'->'systemParams'->>'partitions' AS INTEGER) AS partitions,
         CAST(params->'cell'->'systemParams'->>'consumers' AS INTEGER) AS consumers,
         tasks * 1000.0 / makespan_ms AS throughput_tps, makespan_ms,
         CAST(params->>'setupMs' AS DOUBLE) AS setup_ms,
         CAST(params->'broker'->>'cpuPctMean' AS DOUBLE) AS broker_cpu_pct,
         CAST(params->'broker'->>'rssPeakMb' AS DOUBLE) AS broker_rss_mb,
         cpu_ms, errors
    FROM runs WHERE system = 'blackboard-kafka'
)
SELECT matrix, items, mode, partitions, consumers, count(*) AS n,
       median(throughput_tps) AS throughput_tps, min(throughput_tps) AS min_tps, max(throughput_tps) AS max_tps,
       median(makespan_ms) AS makespan_ms, median(setup_ms) AS setup_ms,
       median(broker_cpu_pct) AS broker_cpu_pct, max(broker_rss_mb) AS broker_rss_peak_mb,
       median(cpu_ms) AS client_cpu_ms, sum(errors) AS errors
  FROM k GROUP BY ALL ORDER BY matrix, items, mode, consumers, partitions;

-- name: scaling_efficiency
-- throughput(p) / (p x throughput(1)) at the same matrix, items, mode and consumers.
WITH k AS (
  SELECT matrix, CAST(params->'workload'->>'items' AS INTEGER) AS items,
         params->'cell'->'systemParams'->>'mode' AS mode,
         CAST(params->'cell'->'systemParams'->>'partitions' AS INTEGER) AS partitions,
         CAST(params->'cell'->'systemParams'->>'consumers' AS INTEGER) AS consumers,
         tasks * 1000.0 / makespan_ms AS throughput_tps
    FROM runs WHERE system = 'blackboard-kafka'
), m AS (
  SELECT matrix, items, mode, partitions, consumers, count(*) AS n, median(throughput_tps) AS throughput_tps
    FROM k GROUP BY ALL
)
SELECT m.matrix, m.items, m.mode, m.consumers, m.partitions, m.n, m.throughput_tps,
       b.throughput_tps AS throughput_p1_tps,
       m.throughput_tps / b.throughput_tps AS speedup,
       m.throughput_tps / (m.partitions * b.throughput_tps) AS scaling_efficiency
  FROM m JOIN m AS b
    ON b.matrix = m.matrix AND b.items = m.items AND b.mode = m.mode AND b.consumers = m.consumers AND b.partitions = 1
 ORDER BY m.matrix, m.items, m.mode, m.consumers, m.partitions;

-- name: in_memory_reference
-- The in-memory blackboard on the same matrices (what a broker costs).
SELECT matrix, CAST(params->'workload'->>'items' AS INTEGER) AS items, system, count(*) AS n,
       median(tasks * 1000.0 / makespan_ms) AS throughput_tps, median(makespan_ms) AS makespan_ms
  FROM runs
 WHERE store = 'memory' AND matrix IN (SELECT DISTINCT matrix FROM runs WHERE system = 'blackboard-kafka')
 GROUP BY ALL ORDER BY matrix, items, system;

-- name: exactly_once_cost
-- Exactly-once / at-least-once median throughput at the same partitions and consumers (< 1: EOS costs).
WITH m AS (
  SELECT matrix, params->'cell'->'systemParams'->>'mode' AS mode,
         CAST(params->'cell'->'systemParams'->>'partitions' AS INTEGER) AS partitions,
         CAST(params->'cell'->'systemParams'->>'consumers' AS INTEGER) AS consumers,
         median(tasks * 1000.0 / makespan_ms) AS throughput_tps
    FROM runs WHERE system = 'blackboard-kafka' GROUP BY ALL
)
SELECT e.matrix, e.partitions, e.consumers, a.throughput_tps AS at_least_once_tps, e.throughput_tps AS exactly_once_tps,
       e.throughput_tps / a.throughput_tps AS eos_over_alo
  FROM m e JOIN m a ON a.matrix = e.matrix AND a.partitions = e.partitions AND a.consumers = e.consumers
 WHERE e.mode = 'exactly-once' AND a.mode = 'at-least-once'
 ORDER BY e.matrix, e.consumers, e.partitions;
