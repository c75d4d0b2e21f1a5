/**
 * Opens the rendered report in headless Chromium (Debian's `chromium`, driven by playwright-core): no console errors,
 * no network requests, planted <script> / onerror= payloads shown as text and never run.
 */
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { describe, expect, it } from "vitest";
import { PAYLOAD_IMG, PAYLOAD_SCRIPT, sampleReport } from "./fixtures.ts";
import { writeReport } from "./render.ts";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

describe("report.html in headless Chromium", () => {
  it("opens with no console errors and no network requests, and shows payloads as text", async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} missing: install Debian's chromium (.ci/run does)`).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), "bf-report-"));
    const { html } = await writeReport(dir, sampleReport());
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    try {
      const page = await browser.newPage();
      const consoleErrors: string[] = [];
      const requests: string[] = [];
      page.on("console", (m) => {
        if (m.type() === "error") consoleErrors.push(m.text());
      });
      page.on("pageerror", (e) => consoleErrors.push(e.message));
      page.on("request", (r) => requests.push(r.url()));
      const url = pathToFileURL(html).href;
      await page.goto(url, { waitUntil: "load" });
      expect(consoleErrors).toEqual([]);
      expect(requests).toEqual([url]);
      expect(await page.evaluate(() => (globalThis as { __pwned?: string }).__pwned)).toBeUndefined();
      expect(await page.title()).toBe("breakfix report: run-test");
      // biome-ignore lint/performance/useDomNodeTextContent: the point is the text as rendered and shown to a person.
      const text = await page.locator("body").innerText();
      expect(text).toContain(PAYLOAD_SCRIPT);
      expect(text).toContain(PAYLOAD_IMG);
      expect(await page.locator("script").count()).toBe(0);
      expect(await page.locator("svg").count()).toBeGreaterThanOrEqual(6);
    } finally {
      await browser.close();
    }
  });
});
