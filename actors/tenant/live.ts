// The live feed as a room of the tenant's actor: tickets to open it, the sockets that watch (held
// by Watchers, below), and what is published to them; only watchers whose opener is still valid
// get anything.
import { currentAdminDigest } from "../../src/control/admin-key.ts";
import { staticTenant, tenants } from "../../src/control/tenants-config.ts";
import { errorBody, type ErrorCode } from "../../src/api/errors.ts";
import { INTERNAL } from "../../src/live/ticket.ts";
import type { Watcher } from "../../src/rpc/actors.ts";
import { LIVE_PROTOCOL, type LiveMessage } from "../../src/types.ts";
import type { TenantRoom } from "./room.ts";
import { CLOSE, MAX_WATCHERS, Watchers, type WatcherCheck } from "./watchers.ts";

export class LiveFeed {
  readonly watchers: Watchers;

  constructor(private readonly room: TenantRoom) {
    this.watchers = new Watchers(room.ctx);
    // Watchers' keep-alive pings are answered without waking the actor from hibernation.
    room.ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
  }

  /** A single-use ticket to open the live feed as `watcher` (src/live/ticket.ts); null if it may not watch. */
  async issueTicket(watcher: Watcher): Promise<{ nonce: string; expiresAt: number } | null> {
    if ((await this.check())(watcher) !== null) return null;
    return this.watchers.issueTicket(watcher, Date.now());
  }

  /**
   * A watcher connects, with a ticket's nonce or as the router authenticated it (internal headers
   * the router sets on a request it builds itself): the socket hibernates with the actor, tagged
   * with who opened it, so an idle dashboard costs nothing. Routers see `watching` within the
   * configuration cache's TTL.
   */
  async open(request: Request): Promise<Response> {
    const refuse = (status: number, code: ErrorCode, message: string, headers: Record<string, string> = {}) =>
      Response.json(errorBody(code, message), { status, headers });
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") return refuse(426, "upgrade_required", "expected a WebSocket upgrade");
    const nonce = request.headers.get(INTERNAL.ticket);
    const stated = request.headers.get(INTERNAL.watcher);
    // Set by the router from its own authentication; parsed from its own JSON.
    const watcher = nonce !== null ? this.watchers.redeem(nonce, Date.now()) : stated !== null ? (JSON.parse(stated) as Watcher) : null;
    if (watcher === null) return refuse(401, "unauthorized", "The ticket is unknown, used or expired; ask for another");
    const refused = (await this.check())(watcher);
    if (refused) return refuse(refused.code === CLOSE.tenantDeleted ? 404 : 401, refused.code === CLOSE.tenantDeleted ? "not_found" : "unauthorized", refused.reason);
    if (this.watchers.count() >= MAX_WATCHERS) {
      return refuse(429, "rate_limited", `At most ${MAX_WATCHERS} live-feed watchers per tenant`, { "Retry-After": "10" });
    }
    const { 0: client, 1: server } = new WebSocketPair();
    this.watchers.accept(server, watcher);
    const offered = (request.headers.get("sec-websocket-protocol") ?? "").split(",").map((p) => p.trim());
    const headers: HeadersInit = offered.includes(LIVE_PROTOCOL) ? { "sec-websocket-protocol": LIVE_PROTOCOL } : {};
    return new Response(null, { status: 101, webSocket: client, headers });
  }

  /**
   * Who may watch now: a stored key still listed, a TENANTS key still configured for this tenant,
   * the operator's current admin key; nobody while the tenant is erasing.
   */
  private async check(): Promise<WatcherCheck> {
    const record = this.room.control.record();
    const stored = record !== null;
    const erasing = record?.status === "erasing" || (!stored && !staticTenant(this.room.env, this.room.tenant));
    const keyIds = new Set(this.room.control.listKeys().map((k) => k.id));
    const staticDigests = new Set([...(await tenants(this.room.env).keyDigests)].filter(([, owner]) => owner === this.room.tenant).map(([digest]) => digest));
    const admin = await currentAdminDigest(this.room.env);
    return (watcher) => {
      if (erasing) return { code: CLOSE.tenantDeleted, reason: "tenant deleted" };
      if (watcher.kind === "key") return keyIds.has(watcher.id) ? null : { code: CLOSE.keyRevoked, reason: "key revoked" };
      if (watcher.kind === "static") return staticDigests.has(watcher.digest) ? null : { code: CLOSE.keyRevoked, reason: "key no longer configured" };
      return watcher.digest === admin ? null : { code: CLOSE.adminKeyChanged, reason: "admin key changed" };
    };
  }

  /** Sends to every watcher whose opener is still valid; the others are closed first, and get nothing. */
  async publish(messages: LiveMessage[]): Promise<void> {
    const open = this.watchers.valid(await this.check());
    const texts = messages.map((m) => JSON.stringify(m));
    for (const ws of open) {
      for (const text of texts) {
        try {
          ws.send(text);
        } catch {
          // A socket closing as we send: its close handler tidies up.
        }
      }
    }
  }

  /** Closes every socket (the tenant is being erased). */
  closeAll(): void {
    this.watchers.closeAll(CLOSE.tenantDeleted, "tenant deleted");
  }

  /** Closes the sockets a revoked key opened. */
  keyRevoked(id: string): void {
    this.watchers.closeOpenedBy({ kind: "key", id }, CLOSE.keyRevoked, "key revoked");
  }
}
