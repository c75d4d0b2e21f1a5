import { describe, expect, it } from "vitest";
import type { ParseResult } from "./extract.ts";
import { parseHarmBench } from "./harmbench.ts";
import { parseLlamaGuard } from "./llama-guard.ts";
import { parseSeverity } from "./severity.ts";
import { parseStrongReject } from "./strongreject.ts";
import {
  type CorpusCase,
  harmBenchCorpus,
  llamaGuardCorpus,
  severityCorpus,
  strongRejectCorpus,
  xstestCorpus,
} from "./testing/corpus.ts";
import { parseXstestClass } from "./xstest-grader.ts";

function runCorpus<T>(name: string, corpus: CorpusCase<T>[], parse: (text: string) => ParseResult<T>) {
  describe(`${name} parser: ${corpus.length} generated outputs`, () => {
    it("has 200+ cases, both valid and malformed", () => {
      expect(corpus.length).toBeGreaterThanOrEqual(200);
      expect(corpus.filter((c) => c.expected === "unjudged").length).toBeGreaterThanOrEqual(30);
      expect(corpus.filter((c) => c.expected !== "unjudged").length).toBeGreaterThanOrEqual(100);
    });
    it("parses every valid output correctly and rejects every malformed one explicitly, never throwing", () => {
      const failures: string[] = [];
      for (const c of corpus) {
        let res: ParseResult<T>;
        try {
          res = parse(c.text);
        } catch (err) {
          failures.push(`${c.name}: threw ${String(err)}`);
          continue;
        }
        if (c.expected === "unjudged") {
          if (res.ok)
            failures.push(
              `${c.name}: expected rejection, got ${JSON.stringify(res.value)} from ${JSON.stringify(c.text)}`,
            );
          else if (!res.error) failures.push(`${c.name}: rejection without a reason`);
        } else if (!res.ok) {
          failures.push(
            `${c.name}: expected ${JSON.stringify(c.expected)}, got error '${res.error}' from ${JSON.stringify(c.text)}`,
          );
        } else {
          try {
            expect(res.value).toEqual(c.expected);
          } catch {
            failures.push(`${c.name}: expected ${JSON.stringify(c.expected)}, got ${JSON.stringify(res.value)}`);
          }
        }
      }
      expect(failures).toEqual([]);
    });
  });
}

runCorpus("harm-severity", severityCorpus(), parseSeverity);
runCorpus("strongreject", strongRejectCorpus(), parseStrongReject);
runCorpus("harmbench", harmBenchCorpus(), parseHarmBench);
runCorpus("xstest-grader", xstestCorpus(), parseXstestClass);
runCorpus("llama-guard-3", llamaGuardCorpus(), parseLlamaGuard);
