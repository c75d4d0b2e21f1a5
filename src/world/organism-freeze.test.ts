/**
 * The committed demo organism (artifacts/demo-world/) is frozen with the world it was trained on: build.json records
 * fingerprints of the world's items (ids, splits, template hold-out) and of the base corpus, and this test regenerates
 * both. Any change to the world's templates, splits or corpus makes it fail until `breakfix world build` is run again,
 * so what the dev and test splits hold out can never silently include what the committed model was trained on.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { contentHash } from "../domain/hash.ts";
import { organismCorpora, WORLD_PRESETS, worldFingerprint } from "./build.ts";
import { generateWorld } from "./generate.ts";

const BUILD = path.resolve(import.meta.dirname, "../../artifacts/demo-world/build.json");

describe("the committed demo organism's world", () => {
  it("is the world and corpus the code generates now (else rebuild with `breakfix world build`)", () => {
    const record = JSON.parse(readFileSync(BUILD, "utf8"));
    const world = generateWorld({ seed: record.seed });
    expect(record.worldHash, "world items/splits changed since the organism was built").toBe(worldFingerprint(world));
    const { corpus, noiseCorpus } = organismCorpora(world, record.seed, WORLD_PRESETS.full);
    expect(record.corpusHash, "base corpus changed since the organism was built").toBe(contentHash(corpus));
    expect(record.noiseCorpusHash, "noise-stage corpus changed since the organism was built").toBe(
      noiseCorpus ? contentHash(noiseCorpus) : undefined,
    );
  });
});
