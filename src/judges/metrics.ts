/**
 * Agreement metrics for calibrating a judge against human labels: accuracy, per-class precision/recall/F1, macro-F1,
 * Cohen's kappa and the confusion matrix. Pure functions over (gold, predicted) label pairs.
 */

export interface ClassStats {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  /** Number of gold items of this class. */
  support: number;
  /** Number of predictions of this class. */
  predicted: number;
}

export interface AgreementMetrics {
  n: number;
  labels: string[];
  accuracy: number;
  macroF1: number;
  kappa: number;
  perClass: ClassStats[];
  /** confusion[i][j] = items with gold labels[i] predicted as labels[j]. */
  confusion: number[][];
}

/** F1 of one class; 0 when both precision and recall are 0 (and when the class never occurs nor is predicted). */
function f1Of(precision: number, recall: number): number {
  return precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
}

/**
 * Computes agreement metrics. `labels` fixes the class order (and which classes count in macro-F1); a pair whose
 * gold or predicted label is outside `labels` is an error, so a typo in a label never disappears silently.
 */
export function agreement(
  gold: readonly string[],
  predicted: readonly string[],
  labels: readonly string[],
  /** Classes averaged in macro-F1 (default all labels); e.g. leave out a prediction-only "unjudged" column. */
  macroOver: readonly string[] = labels,
): AgreementMetrics {
  if (gold.length !== predicted.length) {
    throw new Error(`agreement: ${gold.length} gold labels but ${predicted.length} predictions`);
  }
  const index = new Map(labels.map((l, i) => [l, i]));
  const k = labels.length;
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < gold.length; i++) {
    const g = index.get(gold[i]);
    const p = index.get(predicted[i]);
    if (g === undefined)
      throw new Error(`agreement: gold label '${gold[i]}' (item ${i}) is not one of ${labels.join(", ")}`);
    if (p === undefined) {
      throw new Error(`agreement: predicted label '${predicted[i]}' (item ${i}) is not one of ${labels.join(", ")}`);
    }
    confusion[g][p]++;
  }
  const n = gold.length;
  let correct = 0;
  for (let i = 0; i < k; i++) correct += confusion[i][i];
  const perClass: ClassStats[] = labels.map((label, i) => {
    const tp = confusion[i][i];
    const support = confusion[i].reduce((a, b) => a + b, 0);
    const predictedCount = confusion.reduce((a, row) => a + row[i], 0);
    const precision = predictedCount === 0 ? 0 : tp / predictedCount;
    const recall = support === 0 ? 0 : tp / support;
    return { label, precision, recall, f1: f1Of(precision, recall), support, predicted: predictedCount };
  });
  const macroClasses = perClass.filter((c) => macroOver.includes(c.label));
  const macroF1 =
    macroClasses.length === 0 ? Number.NaN : macroClasses.reduce((a, c) => a + c.f1, 0) / macroClasses.length;
  const accuracy = n === 0 ? Number.NaN : correct / n;
  return { n, labels: [...labels], accuracy, macroF1, kappa: cohensKappa(confusion), perClass, confusion };
}

/** Cohen's kappa from a square confusion matrix: (po - pe) / (1 - pe); 1 when both raters use one class only. */
export function cohensKappa(confusion: readonly (readonly number[])[]): number {
  const k = confusion.length;
  let n = 0;
  let agree = 0;
  const rowSums = new Array<number>(k).fill(0);
  const colSums = new Array<number>(k).fill(0);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      const c = confusion[i][j];
      n += c;
      rowSums[i] += c;
      colSums[j] += c;
      if (i === j) agree += c;
    }
  }
  if (n === 0) return Number.NaN;
  const po = agree / n;
  let pe = 0;
  for (let i = 0; i < k; i++) pe += (rowSums[i] / n) * (colSums[i] / n);
  if (pe === 1) return po === 1 ? 1 : 0;
  return (po - pe) / (1 - pe);
}

/** Renders a confusion matrix as an aligned text table (rows gold, columns predicted). */
export function formatConfusion(m: Pick<AgreementMetrics, "labels" | "confusion">): string {
  const head = ["gold \\ pred", ...m.labels];
  const rows = m.labels.map((l, i) => [l, ...m.confusion[i].map(String)]);
  const all = [head, ...rows];
  const widths = head.map((_, c) => Math.max(...all.map((r) => r[c].length)));
  return all
    .map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join("  "))
    .join("\n");
}
