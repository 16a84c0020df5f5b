-- H2: do partitioned queues give near-linear throughput gains for independent work? For
-- blackboard-kafka runs: throughput = tasks / makespan (setup -- topic creation, group join --
-- and teardown -- reading the log back, deleting topics -- are outside makespan; setup is shown
-- apart as setup_ms) per (delivery, layout, partitions). The layout is one-process (consumers
-- in the run's own process) or worker-processes (processes >= 1). Scaling efficiency =
-- throughput(p) / (p x throughput(1)) at the same delivery and layout (1 = linear). Client CPU %
-- is the run's process plus its worker processes, per second of makespan (200 = both cores of a
-- 2-core machine); the broker JVM's mean CPU and peak RSS are sampled during the run.
-- Run: flockbench sql notebooks/h2_scaling.sql

-- name: throughput
-- Median throughput, client and broker cost per (delivery, layout, partitions).
SELECT matrix, wl_tasks AS tasks, sys_delivery AS delivery, sys_layout AS layout, sys_partitions AS partitions,
       sys_processes AS processes, sys_consumers * greatest(sys_processes, 1) AS consumers_per_group, count(*) AS n,
       median(throughput_tps) AS throughput_tps, median(makespan_ms) AS makespan_ms, median(setup_ms) AS setup_ms,
       median(cpu_ms * 100.0 / makespan_ms) AS client_cpu_pct,
       median(broker_cpu_pct_mean) AS broker_cpu_pct, max(broker_rss_peak_mb) AS broker_rss_peak_mb
  FROM run_configs WHERE system = 'blackboard-kafka'
 GROUP BY ALL ORDER BY matrix, tasks, delivery, layout, partitions;

-- name: scaling_efficiency
-- throughput(p) / (p x throughput(1)) at the same matrix, tasks, delivery and layout.
WITH m AS (
  SELECT matrix, wl_tasks AS tasks, sys_delivery AS delivery, sys_layout AS layout, sys_partitions AS partitions,
         count(*) AS n, median(throughput_tps) AS throughput_tps
    FROM run_configs WHERE system = 'blackboard-kafka' GROUP BY ALL
)
SELECT m.matrix, m.tasks, m.delivery, m.layout, m.partitions, m.n, m.throughput_tps,
       m.throughput_tps / (m.partitions * b.throughput_tps) AS scaling_efficiency
  FROM m JOIN m b
    ON b.matrix = m.matrix AND b.tasks = m.tasks AND b.delivery = m.delivery AND b.layout = m.layout AND b.partitions = 1
 ORDER BY m.matrix, m.tasks, m.delivery, m.layout, m.partitions;

-- name: in_memory_reference
-- The in-memory blackboard on the same matrices (what a broker costs).
SELECT matrix, wl_tasks AS tasks, system, count(*) AS n, median(throughput_tps) AS throughput_tps, median(makespan_ms) AS makespan_ms
  FROM run_configs
 WHERE store = 'memory' AND matrix IN (SELECT DISTINCT matrix FROM run_configs WHERE system = 'blackboard-kafka')
 GROUP BY ALL ORDER BY matrix, tasks, system;

-- name: exactly_once_cost
-- Exactly-once / at-least-once median throughput at the same layout and partitions (< 1: EOS costs).
WITH m AS (
  SELECT matrix, sys_delivery AS delivery, sys_layout AS layout, sys_partitions AS partitions, median(throughput_tps) AS throughput_tps
    FROM run_configs WHERE system = 'blackboard-kafka' GROUP BY ALL
)
SELECT e.matrix, e.layout, e.partitions, a.throughput_tps AS at_least_once_tps, e.throughput_tps AS exactly_once_tps,
       e.throughput_tps / a.throughput_tps AS eos_over_alo
  FROM m e JOIN m a ON a.matrix = e.matrix AND a.layout = e.layout AND a.partitions = e.partitions
 WHERE e.delivery = 'exactly-once' AND a.delivery = 'at-least-once'
 ORDER BY e.matrix, e.layout, e.partitions;

-- name: layouts
-- Same consumers, different homes: worker-processes / one-process median throughput per (delivery, partitions).
WITH m AS (
  SELECT matrix, sys_delivery AS delivery, sys_layout AS layout, sys_partitions AS partitions,
         median(throughput_tps) AS throughput_tps, median(cpu_ms * 100.0 / makespan_ms) AS client_cpu_pct
    FROM run_configs WHERE system = 'blackboard-kafka' GROUP BY ALL
)
SELECT w.matrix, w.delivery, w.partitions, o.throughput_tps AS one_process_tps, w.throughput_tps AS worker_processes_tps,
       w.throughput_tps / o.throughput_tps AS processes_over_one, o.client_cpu_pct AS one_process_cpu_pct, w.client_cpu_pct AS worker_processes_cpu_pct
  FROM m w JOIN m o ON o.matrix = w.matrix AND o.delivery = w.delivery AND o.partitions = w.partitions
 WHERE w.layout = 'worker-processes' AND o.layout = 'one-process'
 ORDER BY w.matrix, w.delivery, w.partitions;
