declare module 'benchmark' {
  /** The subset of benchmark.js used by bench/util.ts. */
  export default class Benchmark {
    constructor(options: Record<string, unknown>);
    stats: { sample: number[]; mean: number; deviation: number };
    run(options?: { async?: boolean }): this;
  }
}
