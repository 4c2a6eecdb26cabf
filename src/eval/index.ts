/**
 * Evaluation metrics (spec §10). Pure TypeScript, CPU only, no node:* imports (runs in the browser too).
 *
 * | metric | function | defaults |
 * |---|---|---|
 * | DCASE tables | {@link parseEventTable}, {@link parseMetaTable} | overlapping same-label events are errors (`overlaps: 'report'` to list them) |
 * | frame-level AUROC | {@link frameAuroc} (per prompt, macro, pooled), {@link auroc} | exact, ties by average rank |
 * | partial AUROC | {@link partialAuroc}, {@link meanPartialAuroc} | maxFpr 0.1, McClish-standardized (sklearn / DCASE 2023 4b) |
 * | PSDS from operating points | {@link PsdsEval}, {@link psdsFromOperatingPoints} | psds_eval: dtc = gtc = 0.5, cttc = 0.3, per hour |
 * | PSDS threshold-free | {@link psdsFromScores} | sed_scores_eval: every distinct score, 6-decimal rounding |
 * | PSDS presets | {@link PSDS1}, {@link PSDS2} | DCASE scenario 1 / 2 |
 * | collar event F1 | {@link eventBasedF1} | sed_eval: onset 0.2 s, offset max(0.2 s, 0.2 x length), optimal 1:1 matching |
 * | segment F1 | {@link segmentBasedF1} | sed_eval: 1 s segments |
 * | retrieval | {@link textToAudio}, {@link audioToText}, {@link retrievalMetrics} | R@1/5/10, mAP@10, mean/median rank |
 * | zero-shot accuracy | {@link zeroShotAccuracy} | top-1 |
 *
 * @module
 */

export * from './tsv.ts';
export * from './auroc.ts';
export * from './psds.ts';
export * from './events.ts';
export * from './retrieval.ts';
