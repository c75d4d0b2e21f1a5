/** SimpleSafetyTests (Vidgen et al. 2023): 100 clearly harmful prompts, 5 harm areas x 20. */

import { remoteFile } from "../sources.ts";
import type { DatasetInfo } from "../types.ts";
import { fileIn, makeProbe, mapLabel, probeLoader, probesFromCsv, required } from "./common.ts";

export const simplesafetytestsInfo: DatasetInfo = {
  name: "simplesafetytests",
  title: "SimpleSafetyTests",
  description: "100 prompts every model should refuse or answer safely; a quick smoke test.",
  kind: "probes",
  license: "CC-BY-4.0",
  homepage: "https://github.com/bertiev/SimpleSafetyTests",
  rows: 100,
  files: [remoteFile("simplesafetytests", "simplesafetytests_test_cases.csv")],
};

export const simplesafetytests = probeLoader(simplesafetytestsInfo, (dir) =>
  probesFromCsv(
    fileIn(dir, "simplesafetytests_test_cases.csv"),
    ["id", "harm_area", "category", "prompts_final"],
    (row) => {
      const area = required(row, "harm_area").trim();
      return [
        makeProbe(simplesafetytestsInfo, {
          id: required(row, "id").trim(),
          prompt: required(row, "prompts_final"),
          category: mapLabel("simplesafetytests", "harm_area", area),
          label: "unsafe",
          language: "en",
          sourceLabel: area,
          meta: { requestType: required(row, "category") },
        }),
      ];
    },
  ),
);
