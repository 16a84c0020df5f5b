-- Orchestration overhead: what does each engine cost per event when agents do no work?
-- From the `bench` table (`flockbench bench`: tinybench, zero-latency agents). Per case and
-- system: per-event cost in microseconds and its ratio to the in-memory blackboard
-- (blackboard-eager = 1); the latest bench session only, so old sessions do not mix in.
-- Run: flockbench sql notebooks/overhead.sql

-- name: per_event_us
-- Latest session: per-event overhead (us) by case and system, ratio to blackboard-eager.
WITH last AS (SELECT bench_id FROM bench ORDER BY started_at DESC LIMIT 1)
SELECT case_name, n, events, system, samples, per_event_us, ratio_to_blackboard, p99_ms, heap_mb_per_10k,
       env->>'state' AS state
  FROM bench WHERE bench_id = (SELECT bench_id FROM last)
 ORDER BY case_name, per_event_us NULLS LAST;

-- name: per_event_pivot
-- One row per case, one column per system (us per event).
WITH last AS (SELECT bench_id FROM bench ORDER BY started_at DESC LIMIT 1)
SELECT case_name, any_value(events) AS events,
       max(per_event_us) FILTER (WHERE system = 'blackboard-eager') AS eager_us,
       max(per_event_us) FILTER (WHERE system = 'blackboard-deferred') AS deferred_us,
       max(per_event_us) FILTER (WHERE system = 'langgraph-parallel') AS lg_parallel_us,
       max(per_event_us) FILTER (WHERE system = 'langgraph-stepwise') AS lg_stepwise_us,
       max(per_event_us) FILTER (WHERE system = 'langgraph-stepwise')
         / max(per_event_us) FILTER (WHERE system = 'blackboard-eager') AS stepwise_over_eager
  FROM bench WHERE bench_id = (SELECT bench_id FROM last)
 GROUP BY case_name ORDER BY case_name;

-- name: sessions
-- Every bench session stored (compare machines and commits through env).
SELECT bench_id, min(started_at) AS started_at, count(*) AS rows,
       any_value(env->>'gitSha') AS git_sha, any_value(env->>'cpuModel') AS cpu
  FROM bench GROUP BY bench_id ORDER BY started_at DESC;
