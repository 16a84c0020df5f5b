-- H2: do partitioned queues give near-linear throughput gains for independent work? For
-- blackboard-kafka runs: throughput = tasks / makespan (setup -- topic creation, group join --
-- and teardown -- reading the log back, deleting topics -- are outside makespan; setup is shown
-- apart as setup_ms) per (mode, layout, partitions). The layout is the cell's `layout` label
-- (h2.yaml: consumers = partitions, in one process or in worker processes), else the fixed
-- consumer count. Scaling efficiency = throughput(p) / (p x throughput(1)) at the same mode and
-- layout (1 = linear; H2's "near-linear" threshold in paper/verdicts.ts is 0.8). Client CPU % is
-- the run's process plus its worker processes, per second of makespan (200 = both cores of a
-- 2-core machine); the broker JVM's mean CPU and peak RSS come from params.broker.
-- Run: flockbench sql notebooks/h2_scaling.sql

-- name: throughput
-- Median throughput, client and broker cost per (mode, layout, partitions).
WITH k AS (
  SELECT matrix, CAST(params->'workload'->>'items' AS INTEGER) AS items,
         params->'cell'->'systemParams'->>'mode' AS mode,
         coalesce(params->'cell'->'systemParams'->>'layout', 'consumers=' || (params->'cell'->'systemParams'->>'consumers')) AS layout,
         CAST(params->'cell'->'systemParams'->>'partitions' AS INTEGER) AS partitions,
         CAST(coalesce(params->'system'->>'processes', '0') AS INTEGER) AS processes,
         CAST(coalesce(params->'system'->>'consumersPerGroup', params->'cell'->'systemParams'->>'consumers') AS INTEGER) AS consumers,
         tasks * 1000.0 / makespan_ms AS throughput_tps, makespan_ms,
         CAST(params->>'setupMs' AS DOUBLE) AS setup_ms,
         cpu_ms * 100.0 / makespan_ms AS client_cpu_pct,
         CAST(params->'broker'->>'cpuPctMean' AS DOUBLE) AS broker_cpu_pct,
         CAST(params->'broker'->>'rssPeakMb' AS DOUBLE) AS broker_rss_mb,
         p99_ms, errors
    FROM runs WHERE system = 'blackboard-kafka'
)
SELECT matrix, items, mode, layout, partitions, processes, consumers, count(*) AS n,
       median(throughput_tps) AS throughput_tps, min(throughput_tps) AS min_tps, max(throughput_tps) AS max_tps,
       median(makespan_ms) AS makespan_ms, median(p99_ms) AS p99_ms, median(setup_ms) AS setup_ms,
       median(client_cpu_pct) AS client_cpu_pct, median(broker_cpu_pct) AS broker_cpu_pct,
       max(broker_rss_mb) AS broker_rss_peak_mb, sum(errors) AS errors
  FROM k GROUP BY ALL ORDER BY matrix, items, mode, layout, partitions;

-- name: scaling_efficiency
-- throughput(p) / (p x throughput(1)) at the same matrix, items, mode and layout.
WITH k AS (
  SELECT matrix, CAST(params->'workload'->>'items' AS INTEGER) AS items,
         params->'cell'->'systemParams'->>'mode' AS mode,
         coalesce(params->'cell'->'systemParams'->>'layout', 'consumers=' || (params->'cell'->'systemParams'->>'consumers')) AS layout,
         CAST(params->'cell'->'systemParams'->>'partitions' AS INTEGER) AS partitions,
         tasks * 1000.0 / makespan_ms AS throughput_tps
    FROM runs WHERE system = 'blackboard-kafka'
), m AS (
  SELECT matrix, items, mode, layout, partitions, count(*) AS n, median(throughput_tps) AS throughput_tps
    FROM k GROUP BY ALL
)
SELECT m.matrix, m.items, m.mode, m.layout, m.partitions, m.n, m.throughput_tps,
       b.throughput_tps AS throughput_p1_tps,
       m.throughput_tps / b.throughput_tps AS speedup,
       m.throughput_tps / (m.partitions * b.throughput_tps) AS scaling_efficiency
  FROM m JOIN m AS b
    ON b.matrix = m.matrix AND b.items = m.items AND b.mode = m.mode AND b.layout = m.layout AND b.partitions = 1
 ORDER BY m.matrix, m.items, m.mode, m.layout, m.partitions;

-- name: in_memory_reference
-- The in-memory blackboard on the same matrices (what a broker costs).
SELECT matrix, CAST(params->'workload'->>'items' AS INTEGER) AS items, system, count(*) AS n,
       median(tasks * 1000.0 / makespan_ms) AS throughput_tps, median(makespan_ms) AS makespan_ms
  FROM runs
 WHERE store = 'memory' AND matrix IN (SELECT DISTINCT matrix FROM runs WHERE system = 'blackboard-kafka')
 GROUP BY ALL ORDER BY matrix, items, system;

-- name: exactly_once_cost
-- Exactly-once / at-least-once median throughput at the same layout and partitions (< 1: EOS costs).
WITH m AS (
  SELECT matrix, params->'cell'->'systemParams'->>'mode' AS mode,
         coalesce(params->'cell'->'systemParams'->>'layout', 'consumers=' || (params->'cell'->'systemParams'->>'consumers')) AS layout,
         CAST(params->'cell'->'systemParams'->>'partitions' AS INTEGER) AS partitions,
         median(tasks * 1000.0 / makespan_ms) AS throughput_tps
    FROM runs WHERE system = 'blackboard-kafka' GROUP BY ALL
)
SELECT e.matrix, e.layout, e.partitions, a.throughput_tps AS at_least_once_tps, e.throughput_tps AS exactly_once_tps,
       e.throughput_tps / a.throughput_tps AS eos_over_alo
  FROM m e JOIN m a ON a.matrix = e.matrix AND a.layout = e.layout AND a.partitions = e.partitions
 WHERE e.mode = 'exactly-once' AND a.mode = 'at-least-once'
 ORDER BY e.matrix, e.layout, e.partitions;

-- name: layouts
-- Same consumers, different homes: worker-processes / one-process median throughput per (mode, partitions).
WITH m AS (
  SELECT matrix, params->'cell'->'systemParams'->>'mode' AS mode,
         params->'cell'->'systemParams'->>'layout' AS layout,
         CAST(params->'cell'->'systemParams'->>'partitions' AS INTEGER) AS partitions,
         median(tasks * 1000.0 / makespan_ms) AS throughput_tps, median(cpu_ms * 100.0 / makespan_ms) AS client_cpu_pct
    FROM runs WHERE system = 'blackboard-kafka' AND (params->'cell'->'systemParams'->>'layout') IS NOT NULL GROUP BY ALL
)
SELECT w.matrix, w.mode, w.partitions, o.throughput_tps AS one_process_tps, w.throughput_tps AS worker_processes_tps,
       w.throughput_tps / o.throughput_tps AS processes_over_one, o.client_cpu_pct AS one_process_cpu_pct, w.client_cpu_pct AS worker_processes_cpu_pct
  FROM m w JOIN m o ON o.matrix = w.matrix AND o.mode = w.mode AND o.partitions = w.partitions
 WHERE w.layout = 'worker-processes' AND o.layout = 'one-process'
 ORDER BY w.matrix, w.mode, w.partitions;
