// flam-webgpu public API (engine layer). Node users create a device with `nodeRuntime()` from
// 'flam-webgpu/node'; browsers with `browserRuntime()`.
export * from './gpu/index.ts';
export { Tensor, Storage, empty, tensor, scope, keep, shapeSize } from './tensor/tensor.ts';
export type { DType, GradNode } from './tensor/tensor.ts';
export { backward, noGrad, isGradEnabled } from './autograd/tape.ts';
export * from './autograd/ops.ts';
export { AdamW, gradNormSquared } from './train/optim.ts';
export type { AdamWOptions } from './train/optim.ts';
export { matmulOp, chooseMatmul, tuneMatmul } from './ops/matmul.ts';
export type { MatmulDesign, MatmulArgs, RBBlock } from './ops/matmul.ts';
export * from './autograd/sim_loss.ts';
export { flamgram, medianFilter3, extractEvents, flamgramEvents } from './model/flamgram.ts';
export type { FlamgramOptions, EventOptions, DetectedEvent } from './model/flamgram.ts';
export { OpenFLAM, fitClips } from './api/openflam.ts';
export type { NdArray, AudioInput, AudioOptions, OpenFLAMLoadOptions, LocalSimilarityOptions, TextOutputs } from './api/openflam.ts';
export { flamFromOfficial, checkOfficialState, readOfficialStateDict, isOfficialLayout, robertaTokenizer } from './model/official.ts';
export type { OfficialFlam, OfficialTensor, OfficialStateDict, OfficialCheckReport, OfficialLoadOptions, RobertaTokenizerSource } from './model/official.ts';
