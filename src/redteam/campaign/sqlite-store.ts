/**
 * CampaignStore over the workspace store (src/store/, SQLite). Each attack record is written in ONE transaction:
 * the attack (attacks table), the target's response (responses), its judgement (judgements, parent = response) and
 * the full record with its multi-turn transcript (artifact kind "redteam.record"). A crash mid-write leaves nothing;
 * a re-run finds the record by id and skips it. Campaign manifests are artifacts of kind "redteam.campaign";
 * findings and vulnerabilities go to their own tables with the campaign id as run id.
 */
import { contentHash } from "../../domain/hash.ts";
import type { Finding, Vulnerability } from "../../domain/types.ts";
import type { Store } from "../../store/store.ts";
import type { AttackRecord, CampaignManifest, CampaignStore } from "./types.ts";

export const RECORD_KIND = "redteam.record";
export const CAMPAIGN_KIND = "redteam.campaign";

export class SqliteCampaignStore implements CampaignStore {
  constructor(readonly store: Store) {}

  getRecord(id: string): AttackRecord | undefined {
    return this.store.artifacts.get<AttackRecord>(RECORD_KIND, { hash: id });
  }

  putRecord(r: AttackRecord): boolean {
    return this.store.transaction(() => {
      const res = this.store.artifacts.put(RECORD_KIND, { hash: r.id }, r);
      if (!res.inserted) return false;
      this.store.attacks.put({ hash: r.attack.id }, r.attack);
      const resp = this.store.responses.put(
        { hash: contentHash({ attack: r.attack.id, response: r.response.id }) },
        r.response,
        {
          parentHash: r.attack.id,
        },
      );
      this.store.judgements.put({ hash: contentHash({ record: r.id, judge: r.judgement.judgeId }) }, r.judgement, {
        parentHash: resp.hash,
      });
      return true;
    });
  }

  putCampaign(m: CampaignManifest): void {
    this.store.artifacts.put(CAMPAIGN_KIND, { hash: m.id }, m);
  }

  getCampaign(id: string): CampaignManifest | undefined {
    return this.store.artifacts.get<CampaignManifest>(CAMPAIGN_KIND, { hash: id });
  }

  listCampaigns(): CampaignManifest[] {
    return this.store.artifacts.list<CampaignManifest>(CAMPAIGN_KIND).map((r) => r.value);
  }

  putFindings(campaignId: string, findings: readonly Finding[], vulnerabilities: readonly Vulnerability[]): void {
    this.store.transaction(() => {
      for (const f of findings)
        this.store.findings.put({ hash: contentHash({ campaign: campaignId, finding: f.id }) }, f, {
          runId: campaignId,
        });
      for (const v of vulnerabilities) {
        this.store.vulnerabilities.put({ hash: contentHash({ campaign: campaignId, vulnerability: v.id }) }, v, {
          runId: campaignId,
        });
      }
    });
  }

  countRecords(): number {
    return this.store.artifacts.list(RECORD_KIND).length;
  }
}
