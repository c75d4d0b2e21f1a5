/**
 * Learning-rate schedule: transformers' linear warmup from 0 to the peak, then cosine decay to minLrRatio x peak
 * (optimization.py `_get_cosine_schedule_with_warmup_lr_lambda` with num_cycles 0.5 and min_lr_rate = minLrRatio, the
 * lambda of get_cosine_with_min_lr_schedule_with_warmup, which the trl backend's lr_scheduler_type
 * "cosine_with_min_lr" builds; minLrRatio 0 gives get_cosine_schedule_with_warmup), times the peak as LambdaLR does.
 * step is 0-based and counts optimizer steps (not micro-batches): the first optimizer step uses step 0, i.e. lr 0
 * when there is a warmup, as in transformers.
 */
export interface ScheduleConfig {
  lr: number;
  warmupSteps: number;
  totalSteps: number;
  /** Final learning rate as a fraction of the peak (0 = decay to zero). */
  minLrRatio?: number;
  /**
   * The engine's schedule before it matched transformers: warmup lr * (step + 1) / W (the first step at lr / W, not
   * 0), decay clamped at totalSteps, W = round(N * ratio) (warmupStepsFor). Only `breakfix world build` sets it
   * (TrainOptions.legacySchedule), so it keeps making the committed demo organisms.
   */
  legacy?: boolean;
}

export function learningRate(step: number, cfg: ScheduleConfig): number {
  if (cfg.legacy) return legacyLearningRate(step, cfg);
  const { lr, warmupSteps: W, totalSteps: N } = cfg;
  const minLrRate = cfg.minLrRatio ?? 0;
  // transformers: if current_step < num_warmup_steps: return float(current_step) / float(max(1, num_warmup_steps))
  if (step < W) return lr * (step / Math.max(1, W));
  // progress = float(current_step - num_warmup_steps) / float(max(1, num_training_steps - num_warmup_steps))
  const progress = (step - W) / Math.max(1, N - W);
  // factor = 0.5 * (1.0 + math.cos(math.pi * float(num_cycles) * 2.0 * progress)), num_cycles 0.5
  let factor = 0.5 * (1.0 + Math.cos(Math.PI * 0.5 * 2.0 * progress));
  // factor = factor * (1 - min_lr_rate) + min_lr_rate; return max(0, factor)
  factor = factor * (1 - minLrRate) + minLrRate;
  return lr * Math.max(0, factor);
}

/**
 * Warmup steps for a warmup ratio of totalSteps: ceil(N * ratio), as transformers' TrainingArguments.get_warmup_steps
 * does for a warmup_steps below 1 (a ratio; the trl backend passes 0.05). legacy: round(ratio * N), as before.
 */
export function warmupStepsFor(ratio: number, totalSteps: number, legacy = false): number {
  return legacy ? Math.round(ratio * totalSteps) : Math.ceil(totalSteps * ratio);
}

function legacyLearningRate(step: number, cfg: ScheduleConfig): number {
  const { lr, warmupSteps, totalSteps } = cfg;
  const minLr = lr * (cfg.minLrRatio ?? 0);
  if (warmupSteps > 0 && step < warmupSteps) return (lr * (step + 1)) / warmupSteps;
  if (step >= totalSteps) return minLr;
  const decaySteps = Math.max(1, totalSteps - warmupSteps);
  const progress = Math.min(1, (step - warmupSteps) / decaySteps);
  return minLr + 0.5 * (lr - minLr) * (1 + Math.cos(Math.PI * progress));
}
