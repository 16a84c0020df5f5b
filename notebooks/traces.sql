-- Traces: how much really ran in parallel? From the OpenTelemetry `spans` table (one
-- `<system>.run` root and one `<agent>.execute` child per execution, the real Flock's DuckDB
-- trace layout; times in ns), in the spirit of Flock's tutorial queries: span counts and
-- durations per operation, peak concurrency per run (a sweep over start/end events),
-- "parallel starts" (executions that began within the same millisecond, the signature of a
-- batch being released at once) and a concurrency timeline of the latest run per system.
-- Executions are read from the view `agent_spans` with source = 'flockbench' (the harness's
-- spans): flock-real runs also store Flock's own auto-trace spans (`Agent.execute` and the rest),
-- which would count each execution twice and move the run's start.
-- Run: flockbench sql notebooks/traces.sql

-- name: span_summary
-- Spans per system and operation: count, mean and P95 duration.
SELECT service AS system, name, count(*) AS spans,
       avg(duration_ms) AS mean_ms, quantile_cont(duration_ms, 0.95) AS p95_ms
  FROM spans GROUP BY ALL ORDER BY system, name;

-- name: peak_concurrency
-- Max simultaneously running executions per run, medianed per system and matrix.
WITH ev AS (
  SELECT run_id, start_time AS t, 1 AS d FROM agent_spans WHERE source = 'flockbench'
  UNION ALL
  SELECT run_id, end_time AS t, -1 AS d FROM agent_spans WHERE source = 'flockbench'
), running AS (
  SELECT run_id, sum(d) OVER (PARTITION BY run_id ORDER BY t, d ROWS UNBOUNDED PRECEDING) AS active FROM ev
), per_run AS (
  SELECT run_id, max(active) AS peak FROM running GROUP BY run_id
)
SELECT r.matrix, r.workload, r.system, count(*) AS runs, median(p.peak) AS median_peak_concurrency,
       max(p.peak) AS max_peak_concurrency
  FROM per_run p JOIN run_configs r USING (run_id)
 GROUP BY ALL ORDER BY r.matrix, r.workload, median_peak_concurrency DESC;

-- name: parallel_starts
-- Executions starting in the same millisecond as another one of the same run (batched release).
WITH s AS (
  SELECT run_id, start_time // 1000000 AS start_ms_bucket, count(*) AS k
    FROM agent_spans WHERE source = 'flockbench' GROUP BY ALL
)
SELECT r.matrix, r.system, count(*) FILTER (WHERE s.k > 1) AS parallel_start_groups,
       sum(s.k) FILTER (WHERE s.k > 1) AS executions_in_groups, max(s.k) AS largest_group,
       sum(s.k) AS executions
  FROM s JOIN run_configs r USING (run_id)
 GROUP BY ALL ORDER BY r.matrix, r.system;

-- name: concurrency_timeline
-- Latest run per (matrix, system): running executions in 20 equal slices of the run.
WITH latest AS (
  SELECT run_id, matrix, system, makespan_ms
    FROM run_configs QUALIFY row_number() OVER (PARTITION BY matrix, system ORDER BY started_at DESC) = 1
), root AS (
  SELECT run_id, min(start_time) AS t0 FROM spans WHERE name LIKE '%.run' AND parent_id IS NULL AND (attributes->>'$."flockbench.workload"') IS NOT NULL GROUP BY run_id
), slices AS (
  SELECT l.run_id, l.matrix, l.system, i, l.makespan_ms * i / 20.0 AS t_ms
    FROM latest l, range(20) AS g(i)
)
SELECT s.matrix, s.system, s.i AS slice, round(s.t_ms, 1) AS t_ms,
       count(x.span_id) AS running
  FROM slices s
  JOIN root USING (run_id)
  LEFT JOIN agent_spans x
    ON x.run_id = s.run_id AND x.source = 'flockbench'
   AND (x.start_time - root.t0) / 1e6 <= s.t_ms AND (x.end_time - root.t0) / 1e6 > s.t_ms
 GROUP BY ALL ORDER BY s.matrix, s.system, s.i;
