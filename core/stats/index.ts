// flockbench statistics: paired comparisons over seeds, decision rules with an equivalence band and
// family-wise adjustment, small-n single-arm intervals, and task-latency percentiles. Pure
// functions; randomness only through an injected `rng: () => number`.
export { type Interval, type PValues, normalCdf, normalQuantile, tCdf, tQuantile, signedRankNull } from './dist.ts';
export {
  type Pair, type TSummary, type Wilcoxon, type HodgesLehmann, type PairedComparison, type PairedOptions,
  logRatios, tSummary, tInterval, expTInterval, tPValues, bcaMeanInterval, wilcoxonSignedRank, hodgesLehmann, comparePaired,
} from './paired.ts';
export {
  type Decision, type Decided, type RatioClaim, type FamilyMember, type FamilyDecision,
  EQUIVALENCE_BAND, decideRatio, decideThreshold, holm, benjaminiHochberg, decideFamily,
} from './decide.ts';
export { type MedianInterval, medianCi, logMeanCi } from './single.ts';
export {
  type PercentileMethod, type Refusable, type BootstrapOptions, type PooledPercentile, type SeedTasks, type PairedPooledRatio,
  percentile, minSamplesFor, tailPercentile, hdrBucket, pooledPercentile, pairedPooledPercentileRatio,
} from './percentile.ts';
