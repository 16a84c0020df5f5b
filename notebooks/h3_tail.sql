-- H3: does explicit batching reduce tail latency (P95/P99) under open-loop load? Only runs whose
-- tasks arrive on a fixed schedule (workload param arrival = poisson, uniform or trace) count: with
-- all-at-once arrivals the "latency" is dominated by makespan. Task latency is measured from the
-- task's *intended* arrival (coordinated-omission safe), so a system that falls behind its
-- arrivals is charged for the queueing. Per-run percentiles are medianed over independent reps;
-- the pooled per-task quantiles are shown for shape only (tasks in one run are not independent).
-- Coalescing configurations (workload param coalesce / coalesceTasks) and task classes (the mixed
-- workload) are separate rows. Empty results mean no open-loop runs are stored yet.
-- Run: flockbench sql notebooks/h3_tail.sql

-- name: open_loop_runs
-- How many open-loop runs exist, per matrix and system.
SELECT matrix, workload, wl_arrival AS arrival,
       wl_rate_per_sec AS rate_per_sec, system, count(*) AS n
  FROM run_configs
 WHERE wl_arrival IN ('poisson', 'uniform', 'trace')
 GROUP BY ALL ORDER BY ALL;

-- name: offered_load
-- Offered load against the provider's token limit, per run: tokens per task (prompt + completion,
-- as stored; the limiter admits on prompt + target output, ~1% less than the drawn output) x
-- arrival rate x the limit window, over the TPM in force (in-process limits record it in
-- params.llmLimiter). Queue and block times say which limit bound.
SELECT matrix, workload, wl_coalesce AS coalesce, wl_coalesce_tasks AS coalesce_tasks, wl_rate_per_sec AS rate_per_sec, system,
       count(*) AS n,
       median((tokens_in + tokens_out) / tasks) AS tokens_per_task,
       median(llm_calls / tasks) AS calls_per_task,
       median((tokens_in + tokens_out) / tasks * wl_rate_per_sec * CAST(params->>'$.llmLimiter.windowMs' AS DOUBLE) / 1000
              / CAST(params->'llmLimiter'->'models'->wl_model->>'tpm' AS DOUBLE)) AS offered_over_tpm,
       median(throughput_tps) AS throughput_tps,
       median(llm_queued_ms_total / llm_calls) AS queued_ms_per_call,
       median(llm_blocked_tokens_ms / makespan_ms) AS blocked_on_tokens,
       median(llm_blocked_requests_ms / makespan_ms) AS blocked_on_requests
  FROM run_configs
 WHERE wl_arrival IN ('poisson', 'uniform', 'trace') AND (params->'llmLimiter') IS NOT NULL
 GROUP BY ALL ORDER BY matrix, workload, coalesce, coalesce_tasks, rate_per_sec, system;

-- name: tail_by_system
-- Median over reps of each run's P50/P95/P99 task latency (ms), per system and load.
SELECT matrix, workload, CAST(workload_params AS VARCHAR) AS workload_params, tail,
       system, sys_batch_window_ms AS batch_window_ms, count(*) AS n,
       median(p50_ms) AS p50_ms, median(p95_ms) AS p95_ms, median(p99_ms) AS p99_ms, median(max_ms) AS max_ms,
       median(p99_ms) / nullif(median(p50_ms), 0) AS p99_over_p50
  FROM run_configs
 WHERE wl_arrival IN ('poisson', 'uniform', 'trace')
 GROUP BY ALL ORDER BY matrix, workload, workload_params, tail, p95_ms;

-- name: tail_by_class
-- Per task class (mixed: map, review-analysis, retrieval-summarization): median over reps of the
-- run's class P95/P99, per configuration (coalescing, load, system, deferred window).
SELECT r.matrix, r.workload, r.wl_coalesce AS coalesce, r.wl_coalesce_tasks AS coalesce_tasks, r.wl_rate_per_sec AS rate_per_sec,
       r.system, r.sys_batch_window_ms AS batch_window_ms, c.task_class, count(*) AS n,
       median(c.tasks) AS tasks, median(c.p50_ms) AS p50_ms, median(c.p95_ms) AS p95_ms, median(c.p99_ms) AS p99_ms
  FROM task_latency_by_class c JOIN run_configs r USING (run_id)
 WHERE r.wl_arrival IN ('poisson', 'uniform', 'trace')
 GROUP BY ALL ORDER BY r.matrix, r.workload, c.task_class, rate_per_sec, coalesce, coalesce_tasks, r.system, batch_window_ms;

-- name: coalescing_ratio
-- Paired by rep (same seed, same arrivals): class P95/P99 with coalescing over without, per
-- system and load; median over reps. < 1: coalescing cut that class's tail.
WITH c AS (
  SELECT r.matrix, r.workload, r.rep, r.wl_rate_per_sec AS rate_per_sec, r.system, r.sys_batch_window_ms AS batch_window_ms,
         coalesce(r.wl_coalesce_tasks, 1) AS coalesce_tasks, r.wl_coalesce AS coalesce, t.task_class, t.p95_ms, t.p99_ms
    FROM task_latency_by_class t JOIN run_configs r USING (run_id)
   WHERE r.wl_arrival IN ('poisson', 'uniform', 'trace') AND r.wl_coalesce IS NOT NULL
)
SELECT a.matrix, a.workload, a.task_class, a.rate_per_sec, a.system, a.batch_window_ms, count(*) AS pairs,
       median(a.p95_ms / b.p95_ms) AS p95_coalesced_over_not, median(a.p99_ms / b.p99_ms) AS p99_coalesced_over_not
  FROM c a JOIN c b
    ON a.matrix = b.matrix AND a.workload = b.workload AND a.rep = b.rep AND a.rate_per_sec = b.rate_per_sec AND a.system = b.system
   AND a.batch_window_ms IS NOT DISTINCT FROM b.batch_window_ms AND a.task_class = b.task_class
   AND a.coalesce_tasks = 1 AND b.coalesce_tasks = 1 AND a.coalesce AND NOT b.coalesce
 GROUP BY ALL ORDER BY a.matrix, a.workload, a.task_class, a.system, a.batch_window_ms, a.rate_per_sec;

-- name: pooled_task_quantiles
-- Per-task latency quantiles pooled over all runs of a system (shape, not inference).
SELECT r.matrix, r.system, count(*) AS tasks,
       quantile_cont(t.latency_ms, 0.5) AS p50_ms, quantile_cont(t.latency_ms, 0.95) AS p95_ms,
       quantile_cont(t.latency_ms, 0.99) AS p99_ms
  FROM task_latencies t JOIN run_configs r USING (run_id)
 WHERE r.wl_arrival IN ('poisson', 'uniform', 'trace')
 GROUP BY ALL ORDER BY r.matrix, p95_ms;
