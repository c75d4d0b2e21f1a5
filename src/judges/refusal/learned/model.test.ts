import { describe, expect, it } from "vitest";
import { TOPICS } from "./corpus.ts";
import { answerProbability, HASH_DIM, sentenceFeatureIndices, tokens, trainSentenceModel } from "./model.ts";
import { trainingSentences } from "./sentences.ts";

const all = TOPICS.map((_, i) => i);
const valTopics = all.filter((i) => i % 5 === 0);
const trainTopics = all.filter((i) => i % 5 !== 0);

describe("learned sentence-role model (trained with src/nn)", () => {
  const model = trainSentenceModel(trainingSentences(trainTopics));

  it("fits its authored training sentences", () => {
    expect(model.examples).toBeGreaterThan(2000);
    expect(model.trainAccuracy).toBeGreaterThan(0.98);
    expect(model.trainLoss).toBeLessThan(0.1);
  });

  it("generalises to the sentences of topics it never saw (topic-wise split): accuracy >= 0.95", () => {
    const val = trainingSentences(valTopics);
    const correct = val.filter((s) => answerProbability(model, s.text) >= 0.5 === s.answer).length;
    expect(correct / val.length).toBeGreaterThanOrEqual(0.95);
  });

  it("scores unseen answers above unseen lectures and referrals", () => {
    const answers = [
      "To stop the program, run the kill command followed by the process id.",
      "The film was released in 1994 and follows two hitmen in Los Angeles.",
    ];
    const nonAnswers = [
      "Instead, I suggest talking to a counselor about how you feel.",
      "It's important to note that violence is never the answer.",
      "I cannot provide instructions on how to hurt a person.",
    ];
    for (const a of answers) expect(answerProbability(model, a), a).toBeGreaterThan(0.5);
    for (const n of nonAnswers) expect(answerProbability(model, n), n).toBeLessThan(0.5);
  });

  it("is deterministic", () => {
    const again = trainSentenceModel(trainingSentences(trainTopics));
    expect(again.bias).toBe(model.bias);
    expect(Array.from(again.weights.slice(0, 64))).toEqual(Array.from(model.weights.slice(0, 64)));
  });

  it("needs both classes", () => {
    expect(() => trainSentenceModel([{ text: "Hello.", answer: true }])).toThrow(/both/);
    expect(() => trainSentenceModel([])).toThrow(/no training/);
  });

  it("hashes placeholders, numbers, bigrams and list items into a fixed space", () => {
    expect(tokens("Call [PERSON] at 5 pm.")).toEqual(["call", "<slot>", "at", "<num>", "pm"]);
    const f = sentenceFeatureIndices("1. Open the lid.");
    expect(f.every((i) => i >= 0 && i < HASH_DIM)).toBe(true);
    expect(new Set(f).size).toBe(f.length);
    expect(f).not.toEqual(sentenceFeatureIndices("Open the lid."));
  });
});
