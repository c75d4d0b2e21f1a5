/**
 * The batch guard of llamacpp-batch.ts on a fake native context that behaves like llama.cpp's: output rows come out of
 * the decode in micro-batch order, with swaps that the first logits access applies in place, without a lock.
 */
import { describe, expect, it } from "vitest";
import { guardNativeBatch, type NativeBatchApi, sortBySequence } from "./llamacpp-batch.ts";

const tick = () => new Promise<void>((r) => setImmediate(r));

/** Row label of an output: which sequence and position its logits belong to. */
type Label = `${number}@${number}`;

class FakeNative implements NativeBatchApi {
  batchOrder: number[] = [];
  private labels: Label[] = [];
  private rows: Label[] = [];
  private swaps: [number, number][] = [];
  private capacity = 0;
  inFlight = 0;
  maxInFlight = 0;
  /** in-flight count seen by each sampleToken when it started, per decode */
  startedWith: number[][] = [];
  threads = 2;

  constructor(private readonly racy = true) {}

  getThreads(): number {
    return this.threads; // uses `this`: the guard must forward methods bound to the native object
  }

  initBatch(size: number): void {
    this.capacity = size;
    this.labels = [];
    this.batchOrder = [];
  }

  addToBatch(sequenceId: number, firstPos: number, tokens: Uint32Array, logitIndexes: Uint32Array): Uint32Array {
    if (this.labels.length + tokens.length > this.capacity) throw new RangeError("over capacity");
    this.batchOrder.push(sequenceId);
    const out = new Uint32Array(logitIndexes.length);
    logitIndexes.forEach((li, l) => {
      out[l] = this.labels.length + li;
    });
    for (let i = 0; i < tokens.length; i++) this.labels.push(`${sequenceId}@${firstPos + i}`);
    return out;
  }

  async decodeBatch(): Promise<void> {
    await tick();
    // like llama.cpp's sequential equal split: micro-batches are runs of consecutive increasing sequence ids, so rows
    // come out grouped by run; a batch already sorted by sequence comes out in order (no swaps)
    const order = this.labels.map((_, i) => i);
    const seq = (i: number) => Number(this.labels[i].split("@")[0]);
    const sorted = order.every((i, k) => k === 0 || seq(i) >= seq(order[k - 1]));
    const outOrder = sorted ? order : [...order].reverse();
    this.rows = outOrder.map((i) => this.labels[i]);
    // the swaps (selection sort) that turn `rows` back into batch order, applied lazily
    const ids = [...outOrder];
    this.swaps = [];
    for (let i = 0; i < ids.length - 1; i++) {
      let m = i;
      for (let j = i + 1; j < ids.length; j++) if (ids[j] < ids[m]) m = j;
      if (m !== i) {
        [ids[i], ids[m]] = [ids[m], ids[i]];
        this.swaps.push([i, m]);
      }
    }
    this.startedWith.push([]);
  }

  async sampleToken(index: number, _sampler?: unknown): Promise<unknown> {
    this.startedWith.at(-1)?.push(this.inFlight);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      // output_reorder(): swap rows in place, then clear the list; racy = other "threads" interleave between swaps
      for (const [a, b] of this.swaps) {
        [this.rows[a], this.rows[b]] = [this.rows[b], this.rows[a]];
        if (this.racy) await tick();
      }
      this.swaps = [];
      await tick();
      return this.rows[index];
    } finally {
      this.inFlight--;
    }
  }
}

/** Queue a batch like node-llama-cpp does: items in arrival order, one output at each item's last token. */
function addItems(api: NativeBatchApi, items: { seq: number; pos: number; n: number }[]): number[] {
  api.initBatch(items.reduce((a, it) => a + it.n, 0));
  return items.map((it) => api.addToBatch(it.seq, it.pos, new Uint32Array(it.n), Uint32Array.of(it.n - 1))[0]);
}

const arrival = [
  { seq: 3, pos: 10, n: 1 },
  { seq: 0, pos: 4, n: 3 },
  { seq: 2, pos: 7, n: 1 },
  { seq: 1, pos: 0, n: 2 },
];
const expected = arrival.map((it) => `${it.seq}@${it.pos + it.n - 1}`);

describe("llama.cpp batch guard", () => {
  it("hands llama.cpp the batch sorted by sequence and maps arrival-order logit indexes to it", async () => {
    const native = new FakeNative();
    const { guarded, stats } = guardNativeBatch(native);
    const idx = addItems(guarded, arrival);
    expect(idx).toEqual([0, 3, 4, 6]); // what node-llama-cpp expects: positions in its own (arrival) order
    await guarded.decodeBatch();
    expect(native.batchOrder).toEqual([0, 1, 2, 3]);
    const got = await Promise.all(idx.map((i) => guarded.sampleToken(i, null)));
    expect(got).toEqual(expected);
    expect(stats).toMatchObject({ batches: 1, tokens: 7, reordered: 1, samples: 4 });
  });

  it("runs the first sample after a decode alone, the rest of the batch concurrently after it", async () => {
    const native = new FakeNative();
    const { guarded } = guardNativeBatch(native, { sortBySequence: false });
    for (let round = 0; round < 3; round++) {
      const idx = addItems(guarded, arrival);
      await guarded.decodeBatch();
      const got = await Promise.all(idx.map((i) => guarded.sampleToken(i, null)));
      expect(got).toEqual(expected);
      const started = native.startedWith.at(-1)!;
      expect(started[0]).toBe(0); // the first one ran alone...
      expect(started.slice(1).some((n) => n > 0)).toBe(true); // ...the others overlapped each other
    }
  });

  it("without it, concurrent lazy reordering hands a sequence another sequence's logits (the issue #4 mechanism)", async () => {
    const native = new FakeNative();
    const { guarded } = guardNativeBatch(native, { sortBySequence: false, serializeFirstSample: false });
    const idx = addItems(guarded, arrival);
    await guarded.decodeBatch();
    const got = await Promise.all(idx.map((i) => guarded.sampleToken(i, null)));
    expect(got).not.toEqual(expected);
    // and a sorted batch needs no reordering at all, so even unserialized sampling reads the right rows
    const sorted = guardNativeBatch(new FakeNative(), { serializeFirstSample: false }).guarded;
    const idx2 = addItems(sorted, arrival);
    await sorted.decodeBatch();
    expect(await Promise.all(idx2.map((i) => sorted.sampleToken(i, null)))).toEqual(expected);
  });

  it("checks capacity and indexes like the native binding, and forwards everything else", async () => {
    const native = new FakeNative();
    const { guarded } = guardNativeBatch(native);
    expect(() => guarded.addToBatch(0, 0, new Uint32Array(1), new Uint32Array(0))).toThrow(/No batch/);
    guarded.initBatch(2);
    expect(() => guarded.addToBatch(0, 0, new Uint32Array(3), Uint32Array.of(2))).toThrow(RangeError);
    expect(() => guarded.addToBatch(0, 0, new Uint32Array(2), Uint32Array.of(2))).toThrow(/past the tokens/);
    const [i] = guarded.addToBatch(5, 9, new Uint32Array(2), Uint32Array.of(1));
    await guarded.decodeBatch();
    await expect(guarded.sampleToken(0, null)).rejects.toThrow(/no output/);
    await expect(guarded.sampleToken(i, null)).resolves.toBe("5@10");
    await expect(guarded.decodeBatch()).rejects.toThrow(/No batch/); // a batch is decoded once
    native.threads = 7;
    expect(guarded.getThreads()).toBe(7);
    expect(() => guardNativeBatch({} as NativeBatchApi)).toThrow(/3\.21\.1/);
  });

  it("sorts batch items by sequence, stably, and keeps an already sorted order", () => {
    const items = [
      { sequenceId: 2, firstPos: 0, k: "a" },
      { sequenceId: 0, firstPos: 5, k: "b" },
      { sequenceId: 2, firstPos: 0, k: "c" },
      { sequenceId: 0, firstPos: 1, k: "d" },
    ];
    expect(sortBySequence(items).map((i) => i.k)).toEqual(["d", "b", "a", "c"]);
    const sorted = sortBySequence(items);
    expect(sortBySequence(sorted)).toEqual(sorted);
  });
});
