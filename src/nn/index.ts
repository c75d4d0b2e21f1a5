/**
 * nn: a small graph IR with autodiff as a graph transform, a plain-TypeScript reference executor, the Llama-family
 * model (HF names, Phi-3 loading), safetensors, tokenizers + chat templates, KV-cache generation and AdamW.
 * The ONNX executor (issue 4) lives in ./onnx and implements the same `Executor` interface.
 */
export * from "./autodiff.ts";
export * from "./bpe.ts";
export * from "./chat-encode.ts";
export { type Precision, RefCompiled, RefExecutor } from "./executor-ref.ts";
export * from "./generate.ts";
export * from "./ir.ts";
export * from "./llama.ts";
export * from "./model.ts";
export * from "./optim.ts";
export * from "./safetensors.ts";
export * from "./tensor.ts";
export * from "./tokenizer.ts";
