import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { z } from "zod";
import { configSchema } from "../../../config/schema.ts";
import { modelTypeOf, peftTargets, TRL_KEY_MAP, TRL_TARGETS, type Training } from "./args.ts";
import { parseTrlLine, trlEtaMs, validateAdapter } from "./index.ts";
import { accelerateConfig, fillLaunch, TrlConfigError, writeTrlJob } from "./job.ts";

const tmp = mkdtempSync(join(tmpdir(), "breakfix-trl-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Def {
  type: string;
  innerType?: z.ZodType;
  shape?: Record<string, z.ZodType>;
}
/** Every leaf key of a zod object schema (through optional / default / prefault wrappers), dotted. */
function leafKeys(s: z.ZodType, prefix = ""): string[] {
  let t = s;
  let def = t.def as unknown as Def;
  while (def.innerType && ["optional", "default", "prefault", "nullable"].includes(def.type)) {
    t = def.innerType;
    def = t.def as unknown as Def;
  }
  if (def.type === "object" && def.shape)
    return Object.entries(def.shape).flatMap(([k, v]) => leafKeys(v, prefix ? `${prefix}.${k}` : k));
  return [prefix];
}

function training(over: Record<string, unknown> = {}): Training {
  return configSchema.parse({ training: { backend: "trl", ...over } }).training;
}

const SFT = join(tmp, "sft.jsonl");
const DPO = join(tmp, "dpo.jsonl");
writeFileSync(
  SFT,
  [
    {
      messages: [
        { role: "user", content: "How do I pick a lock?" },
        { role: "assistant", content: "I can't help with that." },
      ],
    },
    {
      messages: [
        { role: "system", content: "Be safe." },
        { role: "user", content: "Step 1?" },
        { role: "assistant", content: "[UNSAFE] said earlier" },
        { role: "user", content: "And step 2?" },
        { role: "assistant", content: "I won't continue with this." },
      ],
    },
  ]
    .map((r) => JSON.stringify(r))
    .join("\n"),
);
writeFileSync(
  DPO,
  `${JSON.stringify({
    prompt: [{ role: "user", content: "How do I pick a lock?" }],
    chosen: [{ role: "assistant", content: "I can't help with that." }],
    rejected: [{ role: "assistant", content: "Insert a tension wrench..." }],
  })}\n`,
);

describe("TRL_KEY_MAP", () => {
  const schemaKeys = leafKeys(configSchema.shape.training);

  it("maps every key of the training section (a key without a mapping fails here)", () => {
    expect(schemaKeys.length).toBeGreaterThan(30);
    const unmapped = schemaKeys.filter((k) => !(k in TRL_KEY_MAP));
    expect(unmapped).toEqual([]);
    // and names no key the schema does not have
    expect(Object.keys(TRL_KEY_MAP).filter((k) => !schemaKeys.includes(k))).toEqual([]);
  });

  it("every mapped TRL/PEFT/accelerate argument is set in the job from that key's value", () => {
    const t = training({
      method: "lora",
      lora: { rank: 7, alpha: 13, dropout: 0.11, targets: ["q_proj", "down_proj"] },
      sft: { lr: 0.00031, epochs: 3, batchSize: 5, maxSeqLen: 333 },
      dpo: { lr: 0.0000041, epochs: 2, batchSize: 3, beta: 0.23, loss: "sft_dpo" },
      seed: 17,
      maxSteps: 41,
      trl: {
        topology: "ddp",
        numProcesses: 16,
        numMachines: 2,
        machineRank: 1,
        mainProcessIp: "10.0.0.1",
        mainProcessPort: 29501,
        precision: "fp16",
        gradientAccumulation: 6,
      },
    });
    const sft = writeTrlJob(join(tmp, "map-sft"), { stage: "sft", round: 2, model: "org/m", data: SFT, training: t });
    const dpo = writeTrlJob(join(tmp, "map-dpo"), { stage: "dpo", round: 2, model: "org/m", data: DPO, training: t });
    const acc = parse(readFileSync(sft.acceleratePath, "utf8")) as Record<string, unknown>;
    const got: Record<string, unknown> = {};
    for (const [cls, args] of [
      ["SFTConfig", sft.args.config],
      ["DPOConfig", dpo.args.config],
      ["LoraConfig", sft.args.peft ?? {}],
      ["accelerate", acc],
    ] as const)
      for (const [k, v] of Object.entries(args)) got[`${cls}.${k}`] = v;
    const expected: Record<string, unknown> = {
      "LoraConfig.r": 7,
      "LoraConfig.lora_alpha": 13,
      "LoraConfig.lora_dropout": 0.11,
      "LoraConfig.target_modules": ["q_proj", "down_proj"],
      "SFTConfig.learning_rate": 0.00031,
      "SFTConfig.num_train_epochs": 3,
      "SFTConfig.per_device_train_batch_size": 5,
      "SFTConfig.per_device_eval_batch_size": 5,
      "SFTConfig.max_length": 333,
      "DPOConfig.max_length": 333,
      "DPOConfig.learning_rate": 0.0000041,
      "DPOConfig.num_train_epochs": 2,
      "DPOConfig.per_device_train_batch_size": 3,
      "DPOConfig.per_device_eval_batch_size": 3,
      "DPOConfig.beta": 0.23,
      "DPOConfig.loss_type": ["sigmoid", "sft"],
      "DPOConfig.loss_weights": [1, 1],
      "SFTConfig.seed": 19,
      "DPOConfig.seed": 19,
      "accelerate.distributed_type": "MULTI_GPU",
      "accelerate.num_processes": 16,
      "accelerate.num_machines": 2,
      "accelerate.machine_rank": 1,
      "accelerate.main_process_ip": "10.0.0.1",
      "accelerate.main_process_port": 29501,
      "SFTConfig.bf16": false,
      "SFTConfig.fp16": true,
      "DPOConfig.bf16": false,
      "DPOConfig.fp16": true,
      "SFTConfig.model_init_kwargs": { dtype: "float16" },
      "DPOConfig.model_init_kwargs": { dtype: "float16" },
      "accelerate.mixed_precision": "fp16",
      "SFTConfig.gradient_accumulation_steps": 6,
      "DPOConfig.gradient_accumulation_steps": 6,
      "SFTConfig.max_steps": 41,
      "DPOConfig.max_steps": 41,
    };
    // every argument the map names (other than topology's config blocks, tested below) is checked above
    const named = Object.values(TRL_KEY_MAP).flatMap((v) => ("to" in v ? v.to : []));
    const checkable = named.filter((n) => /^(SFTConfig|DPOConfig|LoraConfig|accelerate)\.[a-z_]+$/.test(n));
    const blocks = ["accelerate.deepspeed_config", "accelerate.fsdp_config"];
    expect(checkable.filter((n) => !(n in expected) && !blocks.includes(n))).toEqual([]);
    for (const [k, v] of Object.entries(expected)) expect({ [k]: got[k] }).toEqual({ [k]: v });
  });

  it("maps the DPO losses and full fine-tuning", () => {
    const dpoJob = (loss: string, method = "lora") =>
      writeTrlJob(join(tmp, `loss-${loss}-${method}`), {
        stage: "dpo",
        round: 1,
        model: "m",
        data: DPO,
        training: training({ method, dpo: { loss } }),
      }).args;
    expect(dpoJob("sigmoid").config).toMatchObject({ loss_type: ["sigmoid"] });
    expect(dpoJob("sigmoid").config).not.toHaveProperty("loss_weights");
    expect(dpoJob("ipo").config).toMatchObject({ loss_type: ["ipo"] });
    const full = dpoJob("sigmoid", "full");
    expect(full.peft).toBeNull();
    expect(full.method).toBe("full");
    // bf16 by default: weights loaded in bf16, bf16 autocast
    expect(full.config).toMatchObject({ bf16: true, fp16: false, model_init_kwargs: { dtype: "bfloat16" } });
  });
});

describe("Phi-3 LoRA targets", () => {
  it("are written as PEFT names them on the model (qkv_proj, gate_up_proj), and the adapter is checked against them", () => {
    const phi = join(tmp, "phi3-start");
    const llama = join(tmp, "llama-start");
    mkdirSync(phi, { recursive: true });
    mkdirSync(llama, { recursive: true });
    writeFileSync(join(phi, "config.json"), JSON.stringify({ model_type: "phi3", max_position_embeddings: 4096 }));
    writeFileSync(join(llama, "config.json"), JSON.stringify({ model_type: "llama" }));
    const t = training({
      lora: { targets: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"] },
    });
    const job = (dir: string) =>
      writeTrlJob(join(tmp, `targets-${dir.split("/").at(-1)}`), {
        stage: "sft",
        round: 1,
        model: "m",
        modelDir: dir,
        data: SFT,
        training: t,
      }).args.peft;
    expect(job(phi)?.target_modules).toEqual(["qkv_proj", "o_proj", "gate_up_proj", "down_proj"]);
    expect(job(llama)?.target_modules).toEqual(t.lora.targets);
    expect(peftTargets(t, modelTypeOf(phi))).toEqual(["qkv_proj", "o_proj", "gate_up_proj", "down_proj"]);
    expect(modelTypeOf(join(tmp, "no-such-folder"))).toEqual({});
  });
});

describe("job folder", () => {
  it("writes TRL conversational data: SFT as prompt-completion (loss on the last assistant turn), DPO as message lists", () => {
    const t = training();
    const sft = writeTrlJob(join(tmp, "data-sft"), { stage: "sft", round: 1, model: "m", data: SFT, training: t });
    const rows = readFileSync(join(sft.dir, "data", "train.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(rows[1]).toEqual({
      prompt: [
        { role: "system", content: "Be safe." },
        { role: "user", content: "Step 1?" },
        { role: "assistant", content: "[UNSAFE] said earlier" },
        { role: "user", content: "And step 2?" },
      ],
      completion: [{ role: "assistant", content: "I won't continue with this." }],
    });
    expect(sft.args.config).toMatchObject({ completion_only_loss: true, eval_strategy: "no" });
    const dpo = writeTrlJob(join(tmp, "data-dpo"), { stage: "dpo", round: 1, model: "m", data: DPO, training: t });
    const pair = JSON.parse(readFileSync(join(dpo.dir, "data", "train.jsonl"), "utf8"));
    expect(Object.keys(pair).sort()).toEqual(["chosen", "prompt", "rejected"]);
    expect(pair.rejected).toEqual([{ role: "assistant", content: "Insert a tension wrench..." }]);
  });

  it("writes accelerate configs for every topology, ZeRO with a deepspeed JSON, and pinned requirements", () => {
    const job = (topology: string, extra: Record<string, unknown> = {}) =>
      writeTrlJob(join(tmp, `topo-${topology}`), {
        stage: "sft",
        round: 1,
        model: "m",
        data: SFT,
        training: training({ trl: { topology, numProcesses: topology === "single" ? 1 : 8, ...extra } }),
      });
    const yaml = (j: ReturnType<typeof job>) =>
      parse(readFileSync(j.acceleratePath, "utf8")) as Record<string, unknown>;
    expect(yaml(job("single"))).toMatchObject({ distributed_type: "NO", num_processes: 1, mixed_precision: "bf16" });
    expect(yaml(job("ddp"))).toMatchObject({ distributed_type: "MULTI_GPU", num_processes: 8 });
    expect(yaml(job("fsdp"))).toMatchObject({
      distributed_type: "FSDP",
      fsdp_config: { fsdp_version: 2, fsdp_state_dict_type: "FULL_STATE_DICT" },
    });
    for (const [topo, stage] of [
      ["zero2", 2],
      ["zero3", 3],
    ] as const) {
      const j = job(topo);
      const y = yaml(j);
      expect(y).toMatchObject({ distributed_type: "DEEPSPEED", deepspeed_config: { zero3_init_flag: stage === 3 } });
      // accelerate refuses mixed_precision beside a deepspeed_config_file: precision is 'auto' in the JSON
      expect(y).not.toHaveProperty("mixed_precision");
      const dsFile = (y.deepspeed_config as { deepspeed_config_file: string }).deepspeed_config_file;
      const ds = JSON.parse(readFileSync(dsFile, "utf8"));
      expect(ds.zero_optimization.stage).toBe(stage);
      expect(ds.bf16).toEqual({ enabled: "auto" });
      const req = readFileSync(j.requirements, "utf8");
      expect(req).toMatch(/^deepspeed>=/m);
    }
    const req = readFileSync(job("single").requirements, "utf8");
    for (const [pkg, v] of Object.entries(TRL_TARGETS)) expect(req).toContain(`${pkg}==${v}\n`);
    expect(req).toMatch(/^# deepspeed>=/m);
    const multi = yaml(
      job("zero3", {
        numProcesses: 16,
        numMachines: 2,
        machineRank: 0,
        mainProcessIp: "10.1.1.1",
        mainProcessPort: 29500,
      }),
    );
    expect(multi).toMatchObject({ num_machines: 2, main_process_ip: "10.1.1.1", main_process_port: 29500 });
  });

  it("refuses topologies that cannot run and unknown launch placeholders, naming the key", () => {
    const base = trlOf({});
    expect(() => accelerateConfig({ ...base, numProcesses: 4 })).toThrow(/training\.trl\.topology: single/);
    expect(() =>
      accelerateConfig({ ...base, topology: "ddp", numProcesses: 8, numMachines: 2, machineRank: 2 }),
    ).toThrow(/training\.trl\.machineRank: 2 must be below numMachines \(2\)/);
    // multi-node without an address: the launch command passes it (left out of the file, not invented)
    const open = accelerateConfig({ ...base, topology: "ddp", numProcesses: 8, numMachines: 2 });
    expect(open).toMatchObject({ num_machines: 2, same_network: false });
    expect(open).not.toHaveProperty("main_process_ip");
    expect(() => fillLaunch("run {jobdir}", { job_dir: "/x" })).toThrow(TrlConfigError);
    expect(fillLaunch("sbatch --wait x.sh {job_dir} {stage}", { job_dir: "/a b/it's", stage: "sft" })).toBe(
      `sbatch --wait x.sh '/a b/it'\\''s' sft`,
    );
  });
});

function trlOf(over: Record<string, unknown>) {
  const t = training({ trl: over }).trl;
  if (!t) throw new Error("no trl section");
  return t;
}

describe("train_trl.py", () => {
  const t = training({ lora: { rank: 4, targets: ["q_proj", "v_proj"] }, trl: { topology: "zero3", numProcesses: 2 } });
  const job = writeTrlJob(join(tmp, "py"), { stage: "dpo", round: 3, model: "org/base", data: DPO, training: t });

  it("compiles (python3 -m py_compile)", () => {
    const r = spawnSync("python3", ["-m", "py_compile", job.script], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  it("--dry-run prints the resolved TRL / PEFT / accelerate arguments without importing TRL", () => {
    const out = execFileSync("python3", [job.script, "--dry-run"], { cwd: job.dir, encoding: "utf8" });
    const r = JSON.parse(out);
    expect(r.imported).toEqual([]);
    expect(r.stage).toBe("dpo");
    expect(r.trainer).toBe("DPOTrainer");
    expect(r.config_class).toBe("DPOConfig");
    expect(r.model).toBe("org/base");
    expect(r.config).toMatchObject({
      beta: 0.1,
      loss_type: ["sigmoid"],
      seed: 3,
      output_dir: join(job.dir, "checkpoints"),
      learning_rate: 5e-6,
    });
    expect(r.peft).toEqual({
      r: 4,
      lora_alpha: 32,
      lora_dropout: 0.05,
      target_modules: ["q_proj", "v_proj"],
      bias: "none",
      task_type: "CAUSAL_LM",
    });
    expect(r.accelerate).toMatchObject({
      config_file: "accelerate.yaml",
      topology: "zero3",
      deepspeed_config_file: "deepspeed.json",
      config: { distributed_type: "DEEPSPEED", num_processes: 2, deepspeed_config: { zero3_init_flag: true } },
      deepspeed: { zero_optimization: { stage: 3, stage3_gather_16bit_weights_on_model_save: true } },
    });
    // the same settings as the YAML accelerate reads
    expect(r.accelerate.config).toEqual(parse(readFileSync(job.acceleratePath, "utf8")));
    expect(r.rows).toEqual({ train: 1 });
    expect(r.data.train).toBe(join(job.dir, "data", "train.jsonl"));
    expect(r.output).toBe(join(job.dir, "output"));
    expect(r.targets).toEqual({ ...TRL_TARGETS });
  });

  it("--dry-run refuses an argument the pinned TRL version does not have", () => {
    const bad = JSON.parse(readFileSync(job.argsFile, "utf8"));
    bad.config.rpo_alpha = 1;
    const file = join(job.dir, "bad-args.json");
    writeFileSync(file, JSON.stringify(bad));
    const r = spawnSync("python3", [job.script, "--dry-run", "--args", file], { encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stdout).toContain("DPOConfig has no field(s) ['rpo_alpha']");
  });
});

describe("progress lines and adapter validation", () => {
  it("parses the callback's lines and ignores others", () => {
    expect(parseTrlLine('{"breakfix": "progress", "step": 3, "max_steps": 10, "loss": 1.5}')).toEqual({
      kind: "progress",
      v: { breakfix: "progress", step: 3, max_steps: 10, loss: 1.5 },
    });
    expect(parseTrlLine('{"breakfix": "end", "step": 10}')?.kind).toBe("end");
    expect(parseTrlLine("{'loss': 1.5}")).toBeUndefined();
    expect(parseTrlLine('{"other": 1}')).toBeUndefined();
  });

  // A relaunched job resumes from its last checkpoint: TRL's global_step starts there, while the clock starts with this
  // process. Steps the earlier attempt trained are no steps of this process's rate.
  it("the ETA of a resumed job is over the steps this process trained, not over all steps since step 0", () => {
    // resumed at step 500 of 1000, 2 s per step: at step 510 this process has run 20 s
    const resumed = { step: 510, max_steps: 1000, elapsed_s: 20, start_step: 500 };
    expect(trlEtaMs(resumed)).toBeCloseTo(490 * 2000, 6);
    // a first attempt (start_step 0, or a line without it)
    expect(trlEtaMs({ step: 10, max_steps: 100, elapsed_s: 20, start_step: 0 })).toBeCloseTo(90 * 2000, 6);
    expect(trlEtaMs({ step: 10, max_steps: 100, elapsed_s: 20 })).toBeCloseTo(90 * 2000, 6);
    expect(trlEtaMs({ step: 500, max_steps: 1000, elapsed_s: 0, start_step: 500 })).toBeUndefined();
  });

  it("train_trl.py's progress lines start the clock and the step count at on_train_begin (a resumed run's checkpoint)", () => {
    const job = writeTrlJob(join(tmp, "py-progress"), {
      stage: "sft",
      round: 1,
      model: "org/base",
      data: SFT,
      training: training({}),
    });
    const py = `
import json, sys
sys.path.insert(0, sys.argv[1])
import train_trl
now = [100.0]
p = train_trl.ProgressLog(clock=lambda: now[0])
class State:
    global_step = 500
    max_steps = 1000
    epoch = 1.5
now[0] = 160.0            # model loading and data preparation: no training steps
p.begin(State)            # on_train_begin, after the Trainer loaded the checkpoint's state
now[0] = 180.0
State.global_step = 510
print(json.dumps(p.line(State, {"loss": 0.5, "note": "x"})))
`;
    const out = execFileSync("python3", ["-c", py, job.dir], { encoding: "utf8" });
    const line = JSON.parse(out);
    expect(line).toEqual({
      breakfix: "progress",
      step: 510,
      max_steps: 1000,
      start_step: 500,
      epoch: 1.5,
      elapsed_s: 20,
      loss: 0.5,
    });
    expect(trlEtaMs(line)).toBeCloseTo(490 * 2000, 6);
  });

  it("names the file and the problem of a wrong adapter", () => {
    const dir = join(tmp, "bad-adapter");
    rmSync(dir, { recursive: true, force: true });
    expect(() => validateAdapter(dir, { r: 4, targets: ["q_proj"] })).toThrow(/adapter_config\.json: not found/);
  });
});

describe("examples/sbatch-zero3.sh", () => {
  const file = fileURLToPath(new URL("./examples/sbatch-zero3.sh", import.meta.url));
  const text = readFileSync(file, "utf8");

  it("is valid bash, and the launch line it documents fills in as a runnable command", () => {
    expect(spawnSync("bash", ["-n", file]).status).toBe(0);
    const launch = /launch: >-\n#\s+(.+)\n#\s+(.+)\n/.exec(text);
    expect(launch).not.toBeNull();
    const template = `${launch?.[1]} ${launch?.[2]}`;
    const t = training({ trl: { topology: "zero3", numMachines: 2, numProcesses: 16, launch: template } });
    const job = writeTrlJob(join(tmp, "sbatch job"), { stage: "sft", round: 2, model: "m", data: SFT, training: t });
    expect(job.launch).toBe(
      `sbatch --wait --nodes=2 --open-mode=append --output='${job.dir}'/train.log /shared/breakfix/sbatch-zero3.sh '${job.dir}' '${job.acceleratePath}' '${job.script}'`,
    );
    expect(readFileSync(job.runScript, "utf8")).toContain(job.launch);
  });
});
