// Evaluation metrics (spec §10): DCASE label tables, frame-level AUROC, PSDS (operating points and
// threshold-free), collar-based event F1 and segment F1, retrieval R@k / mAP@10, zero-shot accuracy.
// Pure TypeScript, CPU only, browser-safe.

export * from './tsv.ts';
export * from './auroc.ts';
export * from './psds.ts';
export * from './events.ts';
export * from './retrieval.ts';
