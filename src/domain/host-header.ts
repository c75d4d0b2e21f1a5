/**
 * The DNS-rebinding check of the local servers (`breakfix view`, `breakfix serve` without an API key). A page on
 * evil.example whose name is rebound to 127.0.0.1 reaches a server on loopback from the victim's browser, same-origin
 * as far as the browser knows, but every request it sends carries `Host: evil.example[:port]`. Answering only to Host
 * values that name the server itself (loopback names, the interface it is bound to) shuts that door.
 */
import { isIP } from "node:net";

/** The names a server on loopback is reached by (IPv6 as it appears in a Host header). */
export const LOOPBACK_HOSTS: readonly string[] = ["127.0.0.1", "localhost", "[::1]"];

export interface HostCheckOptions {
  /** Host names accepted (default LOOPBACK_HOSTS), lower case; IPv6 in brackets. */
  names?: readonly string[];
  /**
   * Also accept any IP literal: for a server bound to every interface (0.0.0.0, ::), reached by whatever address the
   * client knows. A rebinding page can only send its own DNS name, never an IP literal, so this keeps the defence.
   */
  anyIp?: boolean;
}

/**
 * True when a request's Host header names this server: one of the accepted names (or, with anyIp, an IP literal),
 * with no port or the server's own `port`. A missing or malformed Host is refused.
 */
export function hostAllowed(host: string | undefined, port: string, opts: HostCheckOptions = {}): boolean {
  const m = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d+))?$/i.exec(host ?? "");
  if (!m) return false;
  const name = m[1].toLowerCase();
  if (m[2] !== undefined && m[2] !== port) return false;
  if ((opts.names ?? LOOPBACK_HOSTS).includes(name)) return true;
  return opts.anyIp === true && isIP(name.replace(/^\[(.*)\]$/, "$1")) !== 0;
}
