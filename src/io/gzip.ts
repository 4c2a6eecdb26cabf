// gzip decompression with the platform's DecompressionStream (browsers; Node >= 18 as a global). Asynchronous,
// because the stream API is.

/** True when `bytes` starts with the gzip magic 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Decompress gzip bytes. `source` names the input in errors. */
export async function gunzip(bytes: Uint8Array, source = 'gzip data'): Promise<Uint8Array> {
  if (!isGzip(bytes)) throw new Error(`${source}: not gzip data (missing the 1f 8b magic)`);
  if (typeof DecompressionStream === 'undefined') throw new Error(`${source}: this platform has no DecompressionStream to un-gzip with`);
  try {
    const copy = new Uint8Array(bytes.length);
    copy.set(bytes); // a plain ArrayBuffer-backed copy: Blob rejects SharedArrayBuffer views
    const stream = new Blob([copy]).stream().pipeThrough(new DecompressionStream('gzip'));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (e) {
    throw new Error(`${source}: corrupt or truncated gzip data (${(e as Error).message})`, { cause: e });
  }
}
