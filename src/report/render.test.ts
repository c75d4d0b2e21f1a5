import { describe, expect, it } from "vitest";
import { escapeHtml } from "./escape.ts";
import { PAYLOAD_IMG, PAYLOAD_SCRIPT, sampleReport } from "./fixtures.ts";
import { renderHtml, renderMarkdown } from "./render.ts";

describe("report rendering", () => {
  it("escapes every planted payload in HTML and keeps it visible as text", async () => {
    const html = await renderHtml(sampleReport());
    expect(html).not.toContain(PAYLOAD_SCRIPT);
    expect(html).not.toContain(PAYLOAD_IMG);
    expect(html).not.toMatch(/<script/i);
    // No tag carries an event handler. Quoted attribute values are removed first: escaped payload text inside an
    // aria-label may still spell "onerror=", harmlessly, because its quotes are escaped too.
    const tagsOnly = html.replace(/"[^"]*"/g, '""');
    expect(tagsOnly).not.toMatch(/<[^>]*\son\w+\s*=/i);
    expect(html).toContain(escapeHtml(PAYLOAD_SCRIPT));
    expect(html).toContain("Content-Security-Policy");
    // Self-contained: no external URL is referenced (the only URLs are SVG namespaces, which load nothing).
    // Real attributes are always quoted; escaped payload text never contains a raw quote.
    const urls = [...html.matchAll(/\s(?:src|href|xlink:href)="([^"]*)"/gi)].map((m) => m[1]);
    expect(urls).toEqual([]);
    expect((html.match(/<svg/g) ?? []).length).toBe(6);
  });

  it("renders Markdown with rates, intervals, gates, regressions and escaped examples", () => {
    const md = renderMarkdown(sampleReport());
    expect(md).toContain("| 2 (release candidate) |");
    expect(md).toMatch(/90\.0% \[\d+\.\d, \d+\.\d\]/);
    expect(md).toContain("- FAIL harmful DR: 0.3000 <= 0.1");
    expect(md).toContain("atk-1 (rot13, S2, es): fixed in round 1, broke again in round 2");
    expect(md).not.toContain("<script>");
    expect(md).not.toContain("<img");
  });
});
