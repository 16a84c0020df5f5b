-- H3: does explicit batching reduce tail latency (P95/P99) under open-loop load? Only runs whose
-- tasks arrive on a fixed schedule (workload param arrival = poisson or uniform) count: with
-- all-at-once arrivals the "latency" is dominated by makespan. Task latency is measured from the
-- task's *intended* arrival (coordinated-omission safe), so a system that falls behind its
-- arrivals is charged for the queueing. Per-run percentiles are medianed over independent reps;
-- the pooled per-task quantiles are shown for shape only (tasks in one run are not independent).
-- Empty results mean no open-loop runs are stored yet.
-- Run: flockbench sql notebooks/h3_tail.sql

-- name: open_loop_runs
-- How many open-loop runs exist, per matrix and system.
SELECT matrix, workload, wl_arrival AS arrival,
       wl_rate_per_sec AS rate_per_sec, system, count(*) AS n
  FROM run_configs
 WHERE wl_arrival IN ('poisson', 'uniform')
 GROUP BY ALL ORDER BY ALL;

-- name: tail_by_system
-- Median over reps of each run's P50/P95/P99 task latency (ms), per system and load.
SELECT matrix, workload, CAST(workload_params AS VARCHAR) AS workload_params, tail,
       system, count(*) AS n,
       median(p50_ms) AS p50_ms, median(p95_ms) AS p95_ms, median(p99_ms) AS p99_ms, median(max_ms) AS max_ms,
       median(p99_ms) / nullif(median(p50_ms), 0) AS p99_over_p50
  FROM run_configs
 WHERE wl_arrival IN ('poisson', 'uniform')
 GROUP BY ALL ORDER BY matrix, workload, workload_params, tail, p95_ms;

-- name: pooled_task_quantiles
-- Per-task latency quantiles pooled over all runs of a system (shape, not inference).
SELECT r.matrix, r.system, count(*) AS tasks,
       quantile_cont(t.latency_ms, 0.5) AS p50_ms, quantile_cont(t.latency_ms, 0.95) AS p95_ms,
       quantile_cont(t.latency_ms, 0.99) AS p99_ms
  FROM task_latencies t JOIN run_configs r USING (run_id)
 WHERE r.wl_arrival IN ('poisson', 'uniform')
 GROUP BY ALL ORDER BY r.matrix, p95_ms;
