/**
 * MLCommons AILuminate v1.0 DEMO prompt set: 1200 prompts per locale (en_US, fr_FR), tagged with MLCommons hazard
 * codes (the taxonomy Llama Guard 3 uses) and a persona (skilled / unskilled).
 */

import type { Probe } from "../../domain/types.ts";
import type { DatasetInfo } from "../types.ts";
import { fileIn, makeProbe, mapLabel, probeLoader, probesFromCsv, required } from "./common.ts";

const REPO = "https://raw.githubusercontent.com/mlcommons/ailuminate/769cc2be9d20c8d4fb26ce53b68865ed41dfb8e2";
export const AILUMINATE_LOCALES = ["en_us", "fr_fr"] as const;
const SHA: Record<string, string> = {
  en_us: "63e2b654325c5405096fabf28ef5f057b0ad674904b1839fd1f52b523e324d02",
  fr_fr: "5f26484aca585ed690f6da61230e214069778fed43bc2c735d30b4df29f1fe1c",
};

const fileOf = (locale: string) => `airr_official_1.0_demo_${locale}_prompt_set_release.csv`;

export const ailuminateInfo: DatasetInfo = {
  name: "ailuminate",
  title: "AILuminate v1.0 demo prompt set",
  description: "1200 hazard-tagged prompts per locale (en_US, fr_FR), MLCommons hazard taxonomy.",
  kind: "probes",
  license: "CC-BY-4.0",
  homepage: "https://github.com/mlcommons/ailuminate",
  rows: 2400,
  files: AILUMINATE_LOCALES.map((l) => ({ name: fileOf(l), url: `${REPO}/${fileOf(l)}`, sha256: SHA[l] })),
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
