/**
 * A campaign run in its own process, for the SIGKILL test: the toy world's seeds, the intermediate persona, a slow
 * scripted target, the placeholder judge, and the workspace SQLite store in argv[2]. Prints one JSON line at the end.
 * Usage: node --import tsx campaign-child.ts WORKSPACE DELAY_MS
 */
import { Store } from "../../store/store.ts";
import { runRedteamCampaign } from "../campaign/campaign.ts";
import { SqliteCampaignStore } from "../campaign/sqlite-store.ts";
import { lexiconTranslator } from "../converters/model.ts";
import { FramingRegistry } from "../framings/load.ts";
import { makePersona } from "../personas.ts";
import { ScriptedModel } from "./scripted-model.ts";
import { PlaceholderJudge } from "./toy-judge.ts";
import { TOY_SEEDS, toySpanish, toyTarget } from "./toy-world.ts";

const [dir, delay] = process.argv.slice(2);
const store = Store.open(dir);
const framings = new FramingRegistry();
const out = await runRedteamCampaign(
  {
    seeds: TOY_SEEDS,
    seedsSource: "toy",
    persona: makePersona("intermediate", framings),
    languages: ["en", "es"],
    seed: 7,
  },
  {
    target: new ScriptedModel("toy-target", (m) => toyTarget(m), Number(delay)),
    judge: new PlaceholderJudge(),
    deps: { translator: lexiconTranslator("toy-lexicon", { es: toySpanish }) },
    framings,
    store: new SqliteCampaignStore(store),
    concurrency: 2,
  },
);
process.stdout.write(
  `${JSON.stringify({ campaign: out.manifest.id, ran: out.run.ran, fromStore: out.run.fromStore, total: out.records.length, complete: out.complete })}\n`,
);
store.close();
