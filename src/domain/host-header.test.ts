import { describe, expect, it } from "vitest";
import { hostAllowed, LOOPBACK_HOSTS } from "./host-header.ts";

describe("hostAllowed (DNS-rebinding check)", () => {
  it("accepts loopback names with the server's port or none", () => {
    for (const h of ["127.0.0.1:7777", "localhost:7777", "LOCALHOST:7777", "[::1]:7777", "127.0.0.1", "localhost"])
      expect(hostAllowed(h, "7777"), h).toBe(true);
  });

  it("refuses other names, other ports, and missing or malformed Host values", () => {
    for (const h of [
      "evil.example",
      "evil.example:7777",
      "127.0.0.1:8888",
      "127.0.0.1.evil.example",
      "localhost.:7777",
      "user@127.0.0.1",
      "127.0.0.1:7777:1",
      "",
      undefined,
    ])
      expect(hostAllowed(h, "7777"), String(h)).toBe(false);
    expect(hostAllowed("10.0.0.5:7777", "7777")).toBe(false);
  });

  it("takes extra names, and IP literals where asked (a server bound to every interface)", () => {
    expect(hostAllowed("gpu-box:8000", "8000", { names: [...LOOPBACK_HOSTS, "gpu-box"] })).toBe(true);
    expect(hostAllowed("10.0.0.5:8000", "8000", { anyIp: true })).toBe(true);
    expect(hostAllowed("[fe80::1]:8000", "8000", { anyIp: true })).toBe(true);
    expect(hostAllowed("evil.example:8000", "8000", { anyIp: true })).toBe(false);
  });
});
