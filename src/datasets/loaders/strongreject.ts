/** StrongREJECT (Souly et al. 2024): 313 forbidden prompts in 6 categories, and the 60-prompt small subset. */
import type { Probe } from "../../domain/types.ts";
import { remoteFile } from "../sources.ts";
import type { DatasetInfo, DatasetLoader } from "../types.ts";
import { fileIn, makeProbe, mapLabel, probeLoader, probesFromCsv, required } from "./common.ts";

function strongrejectLoader(small: boolean): DatasetLoader<Probe> {
  const file = small ? "strongreject_small_dataset.csv" : "strongreject_dataset.csv";
  const info: DatasetInfo = {
    name: small ? "strongreject-small" : "strongreject",
    title: small ? "StrongREJECT small (60)" : "StrongREJECT (313)",
    description: small
      ? "60 forbidden prompts, 10 per category (a subset of the full set)."
      : "313 forbidden prompts in 6 categories, scored with the StrongREJECT rubric.",
    kind: "probes",
    license: "MIT",
    homepage: "https://github.com/alexandrasouly/strongreject",
    rows: small ? 60 : 313,
    // On a moving branch with no sha256 (sources.yaml says why): `data pull` checks the row count only.
    files: [remoteFile("strongreject", file)],
  };
  return probeLoader(info, (dir) => {
    let n = 0;
    return probesFromCsv(fileIn(dir, file), ["category", "source", "forbidden_prompt"], (row) => {
      n++;
      const cat = required(row, "category").trim();
      return [
        makeProbe(info, {
          id: String(n),
          prompt: required(row, "forbidden_prompt"),
          category: mapLabel("strongreject", "category", cat),
          label: "unsafe",
          language: "en",
          sourceLabel: cat,
          meta: { origin: required(row, "source") },
        }),
      ];
    });
  });
}

export const strongreject = strongrejectLoader(false);
export const strongrejectSmall = strongrejectLoader(true);
