declare module 'wgsl-preprocessor/wgsl-preprocessor.js' {
  /** Template tag resolving #if/#elif/#else/#endif blocks whose conditions are the following substitutions. */
  export function wgsl(strings: TemplateStringsArray, ...values: unknown[]): string;
}
