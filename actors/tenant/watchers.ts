// The live feed's watchers, held by the tenant's actor: hibernating WebSockets, each tagged with
// who opened it (a stored key's id, a TENANTS key's digest, or the operator's admin key digest),
// so revoking that key, erasing the tenant or changing the admin key closes exactly its sockets,
// and nothing is sent on a socket whose opener is no longer valid. Tickets to open one are
// single-use and held in memory: an actor that restarts forgets them, and the client asks again.
import type { Watcher } from "../../src/rpc/actors.ts";
import { bytesToHex } from "../../src/crypto.ts";

/** Watchers per tenant at once; the next one is refused with 429 rate_limited. */
export const MAX_WATCHERS = 20;
/** How long a ticket stays valid. */
const TICKET_TTL_MS = 60_000;
/** Tickets outstanding per tenant; the oldest goes first past this. */
const MAX_TICKETS = 100;

/** Close codes a watcher may see (README, "Live feed"). */
export const CLOSE = {
  keyRevoked: 4401,
  adminKeyChanged: 4403,
  tenantDeleted: 4404,
} as const;

/** The socket tag that names who opened it. */
function watcherTag(watcher: Watcher): string {
  return watcher.kind === "key" ? `key:${watcher.id}` : `${watcher.kind}:${watcher.digest}`;
}

function watcherOfTag(tag: string): Watcher | null {
  const colon = tag.indexOf(":");
  const kind = tag.slice(0, colon);
  const value = tag.slice(colon + 1);
  if (kind === "key") return { kind, id: value };
  if (kind === "static" || kind === "admin") return { kind, digest: value };
  return null;
}

/** Why a watcher may no longer watch (with the close code), or null while it may. */
export type WatcherCheck = (watcher: Watcher) => { code: number; reason: string } | null;

export class Watchers {
  private readonly tickets = new Map<string, { watcher: Watcher; expiresAt: number }>();

  constructor(private readonly ctx: DurableObjectState) {}

  /** Open watchers: a socket still finishing its closing handshake no longer counts. */
  count(): number {
    return this.ctx.getWebSockets().filter((ws) => ws.readyState === WebSocket.OPEN).length;
  }

  issueTicket(watcher: Watcher, now: number): { nonce: string; expiresAt: number } {
    for (const [nonce, t] of this.tickets) if (t.expiresAt <= now) this.tickets.delete(nonce);
    if (this.tickets.size >= MAX_TICKETS) this.tickets.delete(this.tickets.keys().next().value!);
    const nonce = bytesToHex(crypto.getRandomValues(new Uint8Array(16)));
    const expiresAt = now + TICKET_TTL_MS;
    this.tickets.set(nonce, { watcher, expiresAt });
    return { nonce, expiresAt };
  }

  /** The watcher a ticket was issued to; the ticket is spent either way. */
  redeem(nonce: string, now: number): Watcher | null {
    const ticket = this.tickets.get(nonce);
    this.tickets.delete(nonce);
    return ticket && ticket.expiresAt > now ? ticket.watcher : null;
  }

  accept(server: WebSocket, watcher: Watcher): void {
    this.ctx.acceptWebSocket(server, [watcherTag(watcher)]);
  }

  /** Closes every socket opened by `watcher`. */
  closeOpenedBy(watcher: Watcher, code: number, reason: string): void {
    for (const ws of this.ctx.getWebSockets(watcherTag(watcher))) close(ws, code, reason);
  }

  closeAll(code: number, reason: string): void {
    for (const ws of this.ctx.getWebSockets()) close(ws, code, reason);
    this.tickets.clear();
  }

  /** The sockets whose openers still pass `check`; the others are closed on the way. */
  valid(check: WatcherCheck): WebSocket[] {
    const open: WebSocket[] = [];
    for (const ws of this.ctx.getWebSockets()) {
      const watcher = this.ctx.getTags(ws).map(watcherOfTag).find((w) => w !== null) ?? null;
      const refused = watcher === null ? { code: CLOSE.keyRevoked, reason: "no longer valid" } : check(watcher);
      if (refused) close(ws, refused.code, refused.reason);
      else open.push(ws);
    }
    return open;
  }
}

function close(ws: WebSocket, code: number, reason: string): void {
  try {
    ws.close(code, reason);
  } catch {
    // Already closing.
  }
}
