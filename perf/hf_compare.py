"""Compare breakfix exports with Hugging Face transformers + peft (run where those libraries are installed).

usage: python perf/hf_compare.py JOB.json
JOB: {"base": DIR, "merged": DIR, "adapter": DIR, "input_ids": [[...]], "ours": FILE.json}
  ours: {"logits": [[[...]]]} from breakfix for the same ids (merged == base + adapter).
Prints one JSON line: max abs logit difference for the merged checkpoint (transformers) and for base + adapter (peft).
"""
import json
import sys

import torch
from peft import PeftModel
from transformers import AutoModelForCausalLM


def main():
    job = json.load(open(sys.argv[1]))
    ids = torch.tensor(job["input_ids"])
    ours = torch.tensor(json.load(open(job["ours"]))["logits"])
    with torch.no_grad():
        merged = AutoModelForCausalLM.from_pretrained(job["merged"], torch_dtype=torch.float32)
        lm = merged(ids).logits
        base = AutoModelForCausalLM.from_pretrained(job["base"], torch_dtype=torch.float32)
        peft = PeftModel.from_pretrained(base, job["adapter"])
        lp = peft(ids).logits
    print(json.dumps({
        "transformers_merged_max_abs_diff": (lm - ours).abs().max().item(),
        "peft_adapter_max_abs_diff": (lp - ours).abs().max().item(),
    }))


if __name__ == "__main__":
    main()
