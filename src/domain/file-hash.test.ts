import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { fileSha256, namedFilesSha256 } from "./file-hash.ts";

const root = mkdtempSync(path.join(tmpdir(), "file-hash-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const sha256 = (...parts: (string | Buffer)[]) => {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest("hex");
};
/** Back-dates a file's mtime past the 2 s "racy" window, so the memo may keep its digest. */
const settle = (file: string) => utimesSync(file, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));

describe("fileSha256", () => {
  it("is the sha256 of the file's bytes, read in chunks (a file over the 8 MiB chunk included)", () => {
    const f = path.join(root, "big.bin");
    const bytes = Buffer.alloc((8 << 20) + 12345);
    for (let i = 0; i < bytes.length; i += 4096) bytes[i] = i % 251;
    writeFileSync(f, bytes);
    expect(fileSha256(f)).toBe(sha256(bytes));
  });

  it("sees a rewrite of the same size, also when the memo holds the old digest", () => {
    const f = path.join(root, "w.gguf");
    writeFileSync(f, "aaaa");
    settle(f);
    expect(fileSha256(f)).toBe(sha256("aaaa")); // remembered: the file is settled
    writeFileSync(f, "bbbb"); // same size, same inode, new mtime
    expect(fileSha256(f)).toBe(sha256("bbbb"));
    writeFileSync(f, "cccc"); // within the same mtime tick, possibly: a fresh file is never remembered
    expect(fileSha256(f)).toBe(sha256("cccc"));
  });
});

describe("namedFilesSha256", () => {
  it("hashes each file's name, then its bytes, in the order given; a byte or the order changed is another digest", () => {
    writeFileSync(path.join(root, "a.json"), "{}");
    writeFileSync(path.join(root, "b.bin"), "xyz");
    const d = namedFilesSha256(root, ["a.json", "b.bin"]);
    expect(d).toBe(sha256("a.json", "{}", "b.bin", "xyz"));
    expect(namedFilesSha256(root, ["b.bin", "a.json"])).not.toBe(d);
    writeFileSync(path.join(root, "b.bin"), "xyZ");
    expect(namedFilesSha256(root, ["a.json", "b.bin"])).toBe(sha256("a.json", "{}", "b.bin", "xyZ"));
  });
});
