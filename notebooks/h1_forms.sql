-- H1 against the strongest graph forms: per workload configuration and seed, each system's
-- makespan, CPU per task and engine overhead (makespan / ideal replay of its own policy), and its
-- makespan ratio to blackboard-deferred on the SAME seed (same latency draws: a paired ratio;
-- > 1 = slower than the blackboard). Runs under heavy external load (`loaded`) are left out, as
-- the decisions leave them out. Intervals and verdicts are `flockbench paper`'s job (paper/rules.ts).
-- Run: flockbench sql notebooks/h1_forms.sql --db <file>

-- name: paired_ratios
-- One row per (configuration, seed, system): makespan, CPU ms per task, overhead, ratio to blackboard-deferred.
WITH r AS (
  SELECT matrix, workload, CAST(workload_params AS VARCHAR) AS wp, tail, latency_scale, seed, system,
         makespan_ms, cpu_ms_per_task, overhead, efficiency
    FROM run_configs
   WHERE NOT loaded
)
SELECT r.matrix, r.tail, r.latency_scale, r.seed, r.system,
       round(r.makespan_ms, 1) AS makespan_ms,
       round(r.cpu_ms_per_task, 1) AS cpu_ms_per_task,
       round(r.overhead, 3) AS overhead,
       round(r.efficiency, 3) AS efficiency,
       round(r.makespan_ms / b.makespan_ms, 3) AS ratio_to_deferred
  FROM r JOIN r b
    ON b.system = 'blackboard-deferred' AND b.matrix = r.matrix AND b.workload = r.workload AND b.wp = r.wp
   AND b.tail = r.tail AND b.latency_scale = r.latency_scale AND b.seed = r.seed
 ORDER BY r.matrix, r.tail, r.system, r.seed;

-- name: summary
-- Per (configuration, system): runs, median makespan, CPU ms per task and overhead, and the
-- geometric mean, min and max of the per-seed ratios to blackboard-deferred.
WITH r AS (
  SELECT matrix, workload, CAST(workload_params AS VARCHAR) AS wp, tail, latency_scale, seed, system, makespan_ms, cpu_ms_per_task, overhead
    FROM run_configs
   WHERE NOT loaded
), p AS (
  SELECT r.*, r.makespan_ms / b.makespan_ms AS ratio
    FROM r JOIN r b
      ON b.system = 'blackboard-deferred' AND b.matrix = r.matrix AND b.workload = r.workload AND b.wp = r.wp
     AND b.tail = r.tail AND b.latency_scale = r.latency_scale AND b.seed = r.seed
)
SELECT matrix, tail, latency_scale, system, count(*) AS n,
       round(median(makespan_ms), 1) AS makespan_ms,
       round(median(cpu_ms_per_task), 1) AS cpu_ms_per_task,
       round(median(overhead), 3) AS overhead,
       round(exp(avg(ln(ratio))), 3) AS ratio_geomean,
       round(min(ratio), 3) AS ratio_min,
       round(max(ratio), 3) AS ratio_max
  FROM p
 GROUP BY ALL
 ORDER BY matrix, tail, ratio_geomean;
