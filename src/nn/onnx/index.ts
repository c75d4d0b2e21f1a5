/** The fast executor (issue 4): the nn IR lowered to ONE ONNX graph per shape bucket, run by onnxruntime-node. */
export { OnnxCompiled, OnnxExecutor, type OnnxExecutorOptions, sessionOptions } from "./executor.ts";
export { decodeModel, encodeModel, lowerGraph, ONNX_OPSET } from "./lower.ts";
export { OnnxTrainStep, type StepResult, type TrainStepOptions } from "./train-step.ts";
