/**
 * Learning-rate schedule: linear warmup from 0 to the peak, then cosine decay to minLrRatio x peak.
 * step is 0-based and counts optimizer steps (not micro-batches).
 */
export interface ScheduleConfig {
  lr: number;
  warmupSteps: number;
  totalSteps: number;
  /** Final learning rate as a fraction of the peak (0 = decay to zero). */
  minLrRatio?: number;
}

export function learningRate(step: number, cfg: ScheduleConfig): number {
  const { lr, warmupSteps, totalSteps } = cfg;
  const minLr = lr * (cfg.minLrRatio ?? 0);
  if (warmupSteps > 0 && step < warmupSteps) return (lr * (step + 1)) / warmupSteps;
  if (step >= totalSteps) return minLr;
  const decaySteps = Math.max(1, totalSteps - warmupSteps);
  const progress = Math.min(1, (step - warmupSteps) / decaySteps);
  return minLr + 0.5 * (lr - minLr) * (1 + Math.cos(Math.PI * progress));
}
