/** Composition: a chain of converters is itself a converter (applied left to right, inverted right to left). */
import { deriveSeed } from "../../domain/random.ts";
import type { ConvertContext, Converter, ConverterFamily } from "./types.ts";

/** Applies converters in order; step i runs with a seed derived from (ctx.seed, i) so repeated steps differ. */
export async function applyConverters(
  converters: readonly Converter[],
  text: string,
  ctx: ConvertContext,
): Promise<string> {
  let out = text;
  for (const [i, c] of converters.entries()) {
    out = await c.convert(out, { ...ctx, seed: i === 0 ? ctx.seed : deriveSeed(ctx.seed, "chain", i) });
  }
  return out;
}

export function chainConverter(converters: readonly Converter[]): Converter {
  if (converters.length === 0) throw new Error("chain: needs at least one converter");
  const invertible = converters.every((c) => c.invert);
  const last = converters[converters.length - 1];
  const family: ConverterFamily = last.family;
  const hint = [...converters].reverse().find((c) => c.hint)?.hint;
  return {
    name: converters.map((c) => c.name).join("+"),
    family,
    params: Object.fromEntries(
      converters.flatMap((c, i) => Object.entries(c.params).map(([k, v]) => [`${i}.${c.name}.${k}`, v])),
    ),
    usesModel: converters.some((c) => c.usesModel),
    hint,
    convert: (text, ctx) => applyConverters(converters, text, ctx),
    invert: invertible
      ? (text) => converters.reduceRight((acc, c) => (c.invert as (t: string) => string)(acc), text)
      : undefined,
  };
}
