-- H1: does batch-then-run (blackboard-deferred) finish independent agent work sooner than graph
-- execution? Per workload configuration (matrix, workload, its params, latency tail, latency
-- scale): median makespan per system over independent seeded reps, the ratios
-- langgraph-stepwise / blackboard-deferred and langgraph-parallel / blackboard-deferred (> 1: the
-- graph is slower), and efficiency = critical-path lower bound / makespan (1 = no scheduler could
-- do better). Bootstrap CIs and the verdicts are computed by `flockbench paper` (paper/verdicts.ts).
-- Run: flockbench sql notebooks/h1_makespan.sql [--db results/flockbench.duckdb]

-- name: makespan_by_system
-- Median makespan, lower bound and efficiency per system and workload configuration.
SELECT matrix, workload,
       wl_analysts AS analysts,
       wl_tasks AS tasks,
       wl_depth AS depth,
       tail, latency_scale, system, count(*) AS n,
       median(makespan_ms) AS makespan_ms, min(makespan_ms) AS min_ms, max(makespan_ms) AS max_ms,
       median(lower_bound_ms) AS lower_bound_ms, median(efficiency) AS efficiency
  FROM run_configs
 WHERE store <> 'kafka'
 GROUP BY ALL
 ORDER BY matrix, workload, analysts, tasks, depth, tail, makespan_ms;

-- name: ratios_to_deferred
-- Ratio of median makespans to blackboard-deferred, per configuration (point estimates).
WITH med AS (
  SELECT matrix, workload, CAST(workload_params AS VARCHAR) AS workload_params,
         wl_analysts AS analysts,
         wl_tasks AS tasks,
         wl_depth AS depth,
         tail, latency_scale, system, count(*) AS n, median(makespan_ms) AS makespan_ms
    FROM run_configs WHERE store <> 'kafka'
   GROUP BY ALL
)
SELECT matrix, workload, analysts, tasks, depth, tail, latency_scale,
       min(n) AS min_n,
       max(makespan_ms) FILTER (WHERE system = 'blackboard-deferred') AS deferred_ms,
       max(makespan_ms) FILTER (WHERE system = 'langgraph-stepwise')
         / max(makespan_ms) FILTER (WHERE system = 'blackboard-deferred') AS stepwise_over_deferred,
       max(makespan_ms) FILTER (WHERE system = 'langgraph-parallel')
         / max(makespan_ms) FILTER (WHERE system = 'blackboard-deferred') AS parallel_over_deferred,
       max(makespan_ms) FILTER (WHERE system = 'blackboard-eager')
         / max(makespan_ms) FILTER (WHERE system = 'blackboard-deferred') AS eager_over_deferred
  FROM med
 GROUP BY matrix, workload, workload_params, analysts, tasks, depth, tail, latency_scale
HAVING count(*) FILTER (WHERE system = 'blackboard-deferred') > 0
 ORDER BY matrix, workload, analysts, tasks, depth, tail;

-- name: efficiency_by_system
-- How close each system gets to the lower bound, across all configurations (median of medians).
SELECT system, tail, count(*) AS runs,
       median(efficiency) AS median_efficiency, min(efficiency) AS worst_efficiency
  FROM run_configs WHERE store <> 'kafka'
 GROUP BY ALL ORDER BY tail, median_efficiency DESC;
