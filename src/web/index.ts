// flam-webgpu for web pages: one ES module (built by `npm run build:web` into dist/web/flam.js, served by
// `flam serve`) holding the engine, the kernels, the FLAM model and the streaming detector.
//
// Three ways in:
//   1. The whole model:   const rt = await browserRuntime();
//                         const { model, tok } = await loadFlamFromUrls(rt, { model: 'weights/flam-tiny.safetensors' });
//                         const r = await detect(model, tok, (await decodeAudio(bytes, name)).samples, ['dog barking']);
//   2. Streaming:         const s = new FlamStream(model, tok, prompts, { hopSeconds: 2.5, onScores });
//                         s.push(chunk, audioContext.sampleRate); ...; await s.flush();
//   3. Kernels on the app's own device and buffers:
//                         const rt = runtimeFromDevice(device, adapter.info);
//                         const wave = wrapBuffer(rt, appBuffer, [B, 480000]);     // STORAGE | COPY_SRC buffer
//                         const { logmel } = melFrontend(rt, wave, { output: 'logmel' }); // [B, 1001, 64] dB
//                         copyToBuffer(logmel!, appOutBuffer); rt.flush();
//                         // the chunked frame-text loss on app buffers [A, L, D] / [K, D] / [K] / [K]:
//                         const loss = sedLoss(wrapBuffer(rt, a, [A, L, D]), wrapBuffer(rt, t, [K, D]), alpha, beta,
//                                              sedTargets(rt, labels));  backward(loss); a.grad ...
//      (src/web/examples/kernels.ts is a complete page doing both.)
//
// Every tensor the engine creates lives on the runtime's device; `scope(fn)` frees them. Only one inference at a
// time per runtime (the recording of two interleaved async calls would mix their scopes).
export * from '../index.ts';
export { runtimeFromDevice } from '../gpu/device.ts';
export type { AdapterInfoLike } from '../gpu/device.ts';
export { wrapBuffer, copyToBuffer } from './interop.ts';
export { fetchBytes, loadFlamFromUrls, DEFAULT_GLOVE_URL } from './load.ts';
export type { ModelUrls } from './load.ts';

// audio
export { MelFrontend, melFrontend, identityBatchNorm, melFrames } from '../audio/frontend.ts';
export type { MelFrontendOptions, MelFrontendResult } from '../audio/frontend.ts';
export { FLAM_FRONTEND, slaneyMelFilterbank } from '../audio/mel_ref.ts';
export type { BatchNormStats } from '../audio/mel_ref.ts';
export { melLogmelOp, melImageOp, melPowerOp, melDbOp, uploadFilterbank, releaseFilterbank } from '../ops/mel.ts';
export { decodeAudio, AudioDecodeError, sniffContainer } from '../audio/decode.ts';
export type { DecodedAudio } from '../audio/decode.ts';
export { resample, Resampler, StreamResampler } from '../audio/resample.ts';
export { cutWindows, FRAME_SECONDS, WINDOW_SAMPLES } from '../audio/windows.ts';
export { writeWav, readWav } from '../audio/wav.ts';

// model and inference
export { Flam, createFlam, flamFromFile, FLAM_PRESETS } from '../model/flam.ts';
export type { FlamConfig, AudioEmbeddings, TextEmbeddings } from '../model/flam.ts';
export { BpeTokenizer, GPT2_TOKENIZER_FILES } from '../text/bpe.ts';
export { detect, encodePrompts, scoreWindows, checkPrompts } from '../infer/detect.ts';
export type { DetectOptions, DetectResult, DetectedPromptEvent, PromptEmbeddings } from '../infer/detect.ts';
export { FlamStream } from '../infer/stream.ts';
export type { StreamOptions, StreamScores, StreamResult } from '../infer/stream.ts';

// figures
export { viridis, magma } from '../viz/colormap.ts';
export { renderFigure } from '../viz/figure.ts';
export type { FigureInput } from '../viz/figure.ts';
