/** Do-Not-Answer (Wang et al. 2023): 939 questions a responsible model should not simply answer, 12 harm types. */

import { remoteFile } from "../sources.ts";
import type { DatasetInfo } from "../types.ts";
import { fileIn, makeProbe, mapLabel, probeLoader, probesFromCsv, required } from "./common.ts";

export const doNotAnswerInfo: DatasetInfo = {
  name: "do-not-answer",
  title: "Do-Not-Answer",
  description: "939 risky questions: 5 risk areas, 12 harm types, 61 specific harms.",
  kind: "probes",
  license: "Apache-2.0",
  homepage: "https://github.com/Libr-AI/do-not-answer",
  rows: 939,
  // On a moving branch with no sha256 (sources.yaml says why): `data pull` checks the row count (939) only.
  files: [remoteFile("do-not-answer", "do_not_answer_en.csv")],
};

export const doNotAnswer = probeLoader(doNotAnswerInfo, (dir) =>
  probesFromCsv(
    fileIn(dir, "do_not_answer_en.csv"),
    ["id", "risk_area", "types_of_harm", "specific_harms", "question"],
    (row) => {
      const type = required(row, "types_of_harm").trim();
      return [
        makeProbe(doNotAnswerInfo, {
          id: required(row, "id").trim(),
          prompt: required(row, "question"),
          category: mapLabel("do-not-answer", "types_of_harm", type),
          label: "unsafe",
          language: "en",
          sourceLabel: type,
          meta: { riskArea: required(row, "risk_area"), specificHarm: required(row, "specific_harms") },
        }),
      ];
    },
  ),
);
