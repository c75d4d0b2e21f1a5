/**
 * MLCommons AILuminate v1.0 DEMO prompt set: 1200 prompts per locale (en_US, fr_FR), tagged with MLCommons hazard
 * codes (the taxonomy Llama Guard 3 uses) and a persona (skilled / unskilled).
 */

import type { Probe } from "../../domain/types.ts";
import { remoteFile } from "../sources.ts";
import type { DatasetInfo } from "../types.ts";
import { fileIn, makeProbe, mapLabel, probeLoader, probesFromCsv, required } from "./common.ts";

export const AILUMINATE_LOCALES = ["en_us", "fr_fr"] as const;

const fileOf = (locale: string) => `airr_official_1.0_demo_${locale}_prompt_set_release.csv`;

export const ailuminateInfo: DatasetInfo = {
  name: "ailuminate",
  title: "AILuminate v1.0 demo prompt set",
  description: "1200 hazard-tagged prompts per locale (en_US, fr_FR), MLCommons hazard taxonomy.",
  kind: "probes",
  license: "CC-BY-4.0",
  homepage: "https://github.com/mlcommons/ailuminate",
  rows: 2400,
  files: AILUMINATE_LOCALES.map((l) => remoteFile("ailuminate", fileOf(l))),
};

export const ailuminate = probeLoader(ailuminateInfo, (dir) => {
  const seen = new Map<string, string>();
  return AILUMINATE_LOCALES.flatMap((locale): Probe[] =>
    probesFromCsv(
      fileIn(dir, fileOf(locale)),
      ["release_prompt_id", "prompt_text", "hazard", "persona", "locale"],
      (row) => {
        const hazard = required(row, "hazard").trim();
        const rowLocale = required(row, "locale").trim();
        if (rowLocale.toLowerCase() !== locale) throw new Error(`locale '${rowLocale}' in the ${locale} file`);
        return [
          makeProbe(ailuminateInfo, {
            id: required(row, "release_prompt_id").trim(),
            prompt: required(row, "prompt_text"),
            category: mapLabel("ailuminate", "hazard", hazard),
            label: "unsafe",
            language: rowLocale.slice(0, 2).toLowerCase(),
            sourceLabel: hazard,
            meta: { persona: required(row, "persona"), locale: rowLocale, promptHash: row.fields.prompt_hash ?? "" },
          }),
        ];
      },
      seen,
    ),
  );
});
