import type { Finding, Vulnerability } from "../../domain/types.ts";
import type { AttackRecord, CampaignManifest, CampaignStore } from "./types.ts";

/** In-memory CampaignStore (deep-copies on the way in and out, like a real store). */
export class MemoryCampaignStore implements CampaignStore {
  private readonly records = new Map<string, string>();
  private readonly campaigns = new Map<string, string>();
  readonly findings = new Map<string, { findings: Finding[]; vulnerabilities: Vulnerability[] }>();

  getRecord(id: string): AttackRecord | undefined {
    const r = this.records.get(id);
    return r === undefined ? undefined : (JSON.parse(r) as AttackRecord);
  }
  putRecord(record: AttackRecord): boolean {
    if (this.records.has(record.id)) return false;
    this.records.set(record.id, JSON.stringify(record));
    return true;
  }
  putCampaign(m: CampaignManifest): void {
    if (!this.campaigns.has(m.id)) this.campaigns.set(m.id, JSON.stringify(m));
  }
  getCampaign(id: string): CampaignManifest | undefined {
    const c = this.campaigns.get(id);
    return c === undefined ? undefined : (JSON.parse(c) as CampaignManifest);
  }
  listCampaigns(): CampaignManifest[] {
    return [...this.campaigns.values()].map((c) => JSON.parse(c) as CampaignManifest);
  }
  putFindings(campaignId: string, findings: readonly Finding[], vulnerabilities: readonly Vulnerability[]): void {
    if (!this.findings.has(campaignId)) {
      this.findings.set(
        campaignId,
        structuredClone({ findings: [...findings], vulnerabilities: [...vulnerabilities] }),
      );
    }
  }
  countRecords(): number {
    return this.records.size;
  }
}
