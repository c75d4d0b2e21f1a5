/**
 * The committed demo organism (artifacts/demo-world/) is frozen with the world it was trained on: build.json records
 * fingerprints of the world's items (ids, splits, template hold-out) and of the base corpus, and this test regenerates
 * both. Any change to the world's templates, splits or corpus makes it fail until `breakfix world build` is run again,
 * so what the dev and test splits hold out can never silently include what the committed model was trained on. The
 * attacker organism (artifacts/demo-world/attacker/) is frozen the same way with the teacher's calls it learned.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { contentHash } from "../domain/hash.ts";
import { attackerCorpus } from "./attacker.ts";
import { organismCorpora, WORLD_PRESETS, worldFingerprint } from "./build.ts";
import { generateWorld } from "./generate.ts";

const BUILD = path.resolve(import.meta.dirname, "../../artifacts/demo-world/build.json");
const ATTACKER_BUILD = path.resolve(import.meta.dirname, "../../artifacts/demo-world/attacker/build.json");

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

  it("and the attacker organism's: the world and the teacher's calls it was trained on (else `world build --attacker`)", async () => {
    // Its goals come from the train and red-team splits: trained on an older world, it could know dev or test goals.
    const record = JSON.parse(readFileSync(ATTACKER_BUILD, "utf8"));
    const world = generateWorld({ seed: record.seed });
    expect(record.worldHash, "world items/splits changed since the attacker was built").toBe(worldFingerprint(world));
    expect(record.dataHash, "attacker data changed since the attacker was built").toBe(
      contentHash(await attackerCorpus(record.seed, record.preset)),
    );
  });
});
