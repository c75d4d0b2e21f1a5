import { createHash } from "node:crypto";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { fileSha256 } from "../domain/file-hash.ts";
import { packagePath } from "../domain/package.ts";
import { tinyLlamaConfig } from "../nn/gguf/fixtures.ts";
import { configFromHf } from "../nn/llama.ts";
import { saveModel } from "../nn/model.ts";
import { adapterFingerprint, localModelId, modelFolderFingerprint } from "./fingerprint.ts";
import { tinyWeights, writeTinyGguf, writeTinyHfModel, writeTinyPeftAdapter } from "./testing/tiny-model.ts";

const root = mkdtempSync(path.join(tmpdir(), "fingerprint-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const sha256 = (...parts: (string | Buffer)[]) => {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest("hex");
};

describe("modelFolderFingerprint", () => {
  it("keeps the four-file digest the cycle's run ids and attacks were drawn from (the committed demo model)", () => {
    const dir = packagePath("artifacts/demo-world/model");
    const files = ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"];
    expect(modelFolderFingerprint(dir)).toBe(sha256(...files.flatMap((f) => [f, readFileSync(path.join(dir, f))])));
  });

  it("covers every shard of a sharded folder, and the optional files that change answers", () => {
    const single = writeTinyHfModel(path.join(root, "single"));
    const sharded = writeTinyHfModel(path.join(root, "sharded"));
    rmSync(path.join(sharded, "model.safetensors"));
    saveModel(sharded, configFromHf({ ...tinyLlamaConfig(), model_type: "llama" }), tinyWeights(), {
      maxShardBytes: 20_000,
    });
    const index = JSON.parse(readFileSync(path.join(sharded, "model.safetensors.index.json"), "utf8"));
    const shards = [...new Set(Object.values(index.weight_map as Record<string, string>))].sort();
    expect(shards.length).toBeGreaterThan(2);
    const fp = modelFolderFingerprint(sharded);
    expect(fp).not.toBe(modelFolderFingerprint(single));

    // one shard changed (same size): another fingerprint
    const last = path.join(sharded, shards.at(-1) as string);
    const bytes = readFileSync(last);
    bytes[bytes.length - 1] ^= 1;
    writeFileSync(last, bytes);
    expect(modelFolderFingerprint(sharded)).not.toBe(fp);

    // a missing shard is named
    rmSync(path.join(sharded, shards[0]));
    expect(() => modelFolderFingerprint(sharded)).toThrow(`weight_map names ${shards[0]}, which is missing`);

    // a chat template file decides the prompt's tokens: it is part of the fingerprint when present
    const before = modelFolderFingerprint(single);
    writeFileSync(path.join(single, "chat_template.jinja"), "{{ messages[0].content }}");
    expect(modelFolderFingerprint(single)).not.toBe(before);
  });

  it("names the folder and the missing file when it is not a model folder", () => {
    const dir = path.join(root, "empty");
    cpSync(writeTinyHfModel(path.join(root, "to-empty")), dir, { recursive: true });
    rmSync(path.join(dir, "model.safetensors"));
    expect(() => modelFolderFingerprint(dir)).toThrow(`${dir}: not a Hugging Face model folder (no model.safetensors`);
    rmSync(path.join(dir, "tokenizer.json"));
    expect(() => modelFolderFingerprint(dir)).toThrow(`${dir}: not a Hugging Face model folder (no tokenizer.json)`);
  });
});

describe("localModelId", () => {
  it("names a model by its file's base name and content: moved keeps the id, retrained gets another", () => {
    const a = writeTinyGguf(path.join(root, "a", "model.gguf"));
    const moved = path.join(root, "b", "model.gguf");
    cpSync(a, moved);
    const id = localModelId("llamacpp", a, fileSha256(a));
    expect(id).toBe(`llamacpp:model.gguf@${sha256(readFileSync(a)).slice(0, 16)}`);
    expect(id).not.toContain(root);
    expect(localModelId("llamacpp", moved, fileSha256(moved))).toBe(id);
    writeTinyGguf(a, 7); // retrained into the same file
    expect(localModelId("llamacpp", a, fileSha256(a))).not.toBe(id);
  });

  it("adds each adapter's name and content, in order", () => {
    const dir = writeTinyHfModel(path.join(root, "m"));
    const fp = modelFolderFingerprint(dir);
    const p1 = writeTinyPeftAdapter(path.join(root, "ad1"), { seed: 1 });
    const p2 = writeTinyPeftAdapter(path.join(root, "ad2"), { seed: 2 });
    const ad = (p: string) => ({ path: p, fingerprint: adapterFingerprint(p) });
    const one = localModelId("builtin", dir, fp, [ad(p1)]);
    expect(one).toMatch(/^builtin:m\+ad1@[0-9a-f]{16}$/);
    expect(localModelId("builtin", dir, fp, [ad(p1), ad(p2)])).not.toBe(
      localModelId("builtin", dir, fp, [ad(p2), ad(p1)]).replace("ad2+ad1", "ad1+ad2"),
    );
    writeTinyPeftAdapter(p1, { seed: 3 }); // retrained adapter, same folder
    expect(localModelId("builtin", dir, fp, [ad(p1)])).not.toBe(one);
    expect(() => adapterFingerprint(root)).toThrow(`${root}: not a PEFT adapter folder`);
  });
});
