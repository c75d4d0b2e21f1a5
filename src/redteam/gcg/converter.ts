/**
 * `gcg_suffix`: appends an adversarial suffix found by GCG to the prompt. With a `suffix` parameter it is that suffix
 * (usable against any target: builtin, llama.cpp, HTTP); without one it draws from a suffix library (the white-box run
 * of the expert persona, or suffixes stored in the workspace): the suffix optimised for this exact prompt when there
 * is one, else a universal suffix chosen by the attack's seed. The suffix is appended as is (it carries its own
 * leading separator, as it was optimised).
 */
import { deriveSeed, Rng } from "../../domain/random.ts";
import type { ConvertContext, Converter } from "../converters/types.ts";
import type { GcgSuffixLibrary } from "./library.ts";

export function gcgSuffixConverter(opts: { suffix?: string; library?: GcgSuffixLibrary }): Converter {
  const { suffix, library } = opts;
  if (
    suffix === undefined &&
    (!library || (library.universal.length === 0 && Object.keys(library.byPrompt).length === 0))
  )
    throw new Error("converter 'gcg_suffix' needs a suffix (param) or a GCG suffix library (none was found or given)");
  return {
    name: "gcg_suffix",
    family: "adversarial",
    params: suffix === undefined ? {} : { suffix },
    usesModel: false,
    ...(suffix === undefined
      ? {}
      : { invert: (text: string) => (text.endsWith(suffix) ? text.slice(0, text.length - suffix.length) : text) }),
    async convert(text: string, ctx: ConvertContext): Promise<string> {
      if (suffix !== undefined) return text + suffix;
      const own = library!.byPrompt[text];
      if (own !== undefined) return text + own;
      const pool = library!.universal.length > 0 ? library!.universal : Object.values(library!.byPrompt);
      return text + new Rng(deriveSeed(ctx.seed, "gcg_suffix")).pick(pool);
    },
  };
}
