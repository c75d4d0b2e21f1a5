/** GGUF export (llama architecture, F32/F16, tokenizer, LoRA adapters) and llama.cpp inference (node-llama-cpp). */

export { ensureGguf, type FolderGgufOptions, ggufFromFolder } from "./folder.ts";
export {
  f16BitsToF32,
  f32ToF16Bits,
  type GgufFile,
  type GgufValue,
  kv,
  parseGguf,
  readGguf,
  writeGguf,
} from "./gguf.ts";
export {
  type HfLlamaConfig,
  type HfTokenizerFiles,
  type LlamaGgufOptions,
  type LoraGgufOptions,
  type LoraPair,
  loraPairsFromPeft,
  type NamedTensor,
  permuteRopeRows,
  writeLlamaGguf,
  writeLoraGguf,
} from "./llama.ts";
export {
  type Generation,
  getCpuLlama,
  type LlamaCppOptions,
  LlamaCppRunner,
  type LoraAdapterRef,
  type SamplingOptions,
} from "./llamacpp.ts";
export {
  type BatchGuardOptions,
  type BatchGuardStats,
  guardNativeBatch,
  installBatchGuard,
} from "./llamacpp-batch.ts";
