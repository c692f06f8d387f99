// The tenant's alerts (dead letters, a disabled endpoint) to its chat services, from the alarm.
// Each alert is queued once with its message fixed, then delivered to every chat service the
// tenant has a destination for, each on its own: a service that answered is never sent it again,
// one that refused it (a 4xx) is done with it, and one that failed (5xx, timeout, network) is tried
// again after a backoff that doubles up to ALERT_RETRY_MAX_MS. Until 0.6 one failing service made
// every alert go again to every service every 10 s, for ever.
import type { Notification } from "../../src/events/notification.ts";
import { deploymentSettings } from "../../src/config.ts";
import { openSnapshot } from "../../src/control/runtime.ts";
import { destinationOf, refusedDestination } from "../../src/handlers/destinations.ts";
import { notificationChannels } from "../../src/handlers/registry.ts";
import { VERSION } from "../../src/version.ts";
import { alertNotification } from "./dead-letter-index.ts";
import type { DeadLetters } from "./dead-letters.ts";
import { endpointDisabledNotification } from "./endpoint-health.ts";
import type { TenantJob, TenantRoom } from "./room.ts";
import type { Db, Row } from "../shared/sql.ts";

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS alert_outbox (key TEXT PRIMARY KEY, notification TEXT NOT NULL, created_at INTEGER NOT NULL) WITHOUT ROWID`,
  // A service's progress with one alert; written only when the alert is not done in one pass.
  `CREATE TABLE IF NOT EXISTS alert_channels (
    key TEXT NOT NULL, channel TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL, next_at INTEGER, last_error TEXT,
    PRIMARY KEY (key, channel)
  ) WITHOUT ROWID`,
];

/** The first wait after a service failed an alert; each failure doubles it, up to the cap. */
export const ALERT_RETRY_BASE_MS = 10_000;
export const ALERT_RETRY_MAX_MS = 3_600_000;
/** Attempts per service and alert: some 9 hours of capped backoff, then it is given up (and logged). */
export const ALERT_MAX_ATTEMPTS = 15;
/** Alerts delivered per alarm at most; the rest wait for the next. */
const ALERTS_PER_PASS = 20;

/** How one attempt at one service went. */
export type ChannelOutcome = { kind: "sent" } | { kind: "refused"; error: string } | { kind: "failed"; error: string };

/** One chat service the tenant has a destination for now: its name and how to send it a message. */
export interface AlertChannel {
  name: string;
  send(notification: Notification, idempotencyKey: string): Promise<ChannelOutcome>;
}

interface ChannelRow extends Row {
  channel: string;
  status: string;
  attempts: number;
  next_at: number | null;
}

type Progress = { status: "sent" | "refused" | "given-up" | "retry"; attempts: number; nextAt: number | null; error: string | null };

export class AlertOutbox {
  constructor(
    private readonly db: Db,
    /** The actor's `storage.transactionSync`. */
    private readonly transaction: <T>(change: () => T) => T,
    private readonly log: (msg: string, extra: Record<string, unknown>) => void,
  ) {}

  private get exists(): boolean {
    return this.db.tables.has("alert_outbox");
  }

  /** Queues an alert under a key of its own (its idempotency key at every service). Inside a transaction. */
  enqueue(key: string, notification: Notification, now: number): void {
    this.db.tables.make(["alert_outbox", "alert_channels"], SCHEMA);
    this.db.all(`INSERT INTO alert_outbox (key, notification, created_at) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING`, key, JSON.stringify(notification), now);
  }

  /** Alerts queued and not yet done. */
  pending(): number {
    return this.exists ? Number(this.db.all<{ n: number }>(`SELECT COUNT(*) AS n FROM alert_outbox`)[0]?.n ?? 0) : 0;
  }

  /**
   * Sends each queued alert to each service that still needs it. An alert every service has
   * answered (or refused, or given up on) is forgotten; answers when to come back, or null.
   */
  async deliver(channels: readonly AlertChannel[], now: number, backoff: (attempts: number) => number = capped): Promise<number | null> {
    if (!this.exists) return null;
    const alerts = this.db.all<{ key: string; notification: string }>(`SELECT key, notification FROM alert_outbox ORDER BY created_at, key LIMIT ?`, ALERTS_PER_PASS);
    let soonest: number | null = alerts.length === ALERTS_PER_PASS ? now : null;
    for (const alert of alerts) {
      // Written only by enqueue from a Notification.
      const notification = JSON.parse(alert.notification) as Notification;
      const known = new Map(this.db.all<ChannelRow>(`SELECT channel, status, attempts, next_at FROM alert_channels WHERE key = ?`, alert.key).map((r) => [r.channel, r]));
      const progress = new Map<string, Progress>();
      for (const channel of channels) {
        const row = known.get(channel.name);
        if (row && row.status !== "retry") continue;
        if (row && Number(row.next_at) > now) {
          soonest = Math.min(soonest ?? Infinity, Number(row.next_at));
          continue;
        }
        const attempts = Number(row?.attempts ?? 0) + 1;
        const outcome = await channel.send(notification, alert.key);
        if (outcome.kind === "sent") progress.set(channel.name, { status: "sent", attempts, nextAt: null, error: null });
        else if (outcome.kind === "refused") {
          progress.set(channel.name, { status: "refused", attempts, nextAt: null, error: outcome.error });
          this.log("alert refused by a chat service; not sent again", { alert: alert.key, channel: channel.name, error: outcome.error });
        } else if (attempts >= ALERT_MAX_ATTEMPTS) {
          progress.set(channel.name, { status: "given-up", attempts, nextAt: null, error: outcome.error });
          this.log("alert given up after its last attempt", { alert: alert.key, channel: channel.name, attempts, error: outcome.error });
        } else {
          const nextAt = now + backoff(attempts);
          progress.set(channel.name, { status: "retry", attempts, nextAt, error: outcome.error });
          soonest = Math.min(soonest ?? Infinity, nextAt);
        }
      }
      const open = channels.some((c) => (progress.get(c.name)?.status ?? known.get(c.name)?.status) === "retry");
      this.transaction(() => {
        if (!open) {
          this.db.all(`DELETE FROM alert_outbox WHERE key = ?`, alert.key);
          this.db.all(`DELETE FROM alert_channels WHERE key = ?`, alert.key);
          return;
        }
        for (const [channel, p] of progress) {
          this.db.all(
            `INSERT INTO alert_channels (key, channel, status, attempts, next_at, last_error) VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (key, channel) DO UPDATE SET status = excluded.status, attempts = excluded.attempts, next_at = excluded.next_at, last_error = excluded.last_error`,
            alert.key,
            channel,
            p.status,
            p.attempts,
            p.nextAt,
            p.error,
          );
        }
      });
    }
    return soonest;
  }
}

/** Doubling from ALERT_RETRY_BASE_MS, capped at ALERT_RETRY_MAX_MS. */
function capped(attempts: number): number {
  return Math.min(ALERT_RETRY_MAX_MS, ALERT_RETRY_BASE_MS * 2 ** Math.max(0, attempts - 1));
}

/** How an answer from a chat service settles an alert there: a 4xx is final (408, 425 and 429 excepted). */
export function channelOutcome(status: number): ChannelOutcome {
  if (status >= 200 && status < 300) return { kind: "sent" };
  const error = `HTTP ${status}`;
  return status >= 400 && status < 500 && ![408, 425, 429].includes(status) ? { kind: "refused", error } : { kind: "failed", error };
}

/** The alarm's job that queues alerts as they come due and delivers what is queued. */
export class Alerts implements TenantJob {
  private readonly outbox: AlertOutbox;

  constructor(
    private readonly room: TenantRoom,
    private readonly deadLetters: DeadLetters,
  ) {
    this.outbox = new AlertOutbox(room.db, (change) => room.transaction(change), (msg, extra) => room.log("warn", msg, extra));
  }

  /**
   * Queues what there is to alert about: everything that went dead since the last dead-letter alert
   * (at most one per ALERT_INTERVAL_MS, the rest summarised in the next) and each endpoint disabled
   * since; then delivers the queue to every chat service the tenant has a destination for, each on
   * its own (AlertOutbox, above). Answers when to come back, or null.
   */
  async run(): Promise<number | null> {
    const now = Date.now();
    let comeBack: number | null = null;
    const unalerted = this.deadLetters.index.unalerted();
    if (unalerted.count > 0) {
      const at = this.deadLetters.index.lastAlertAt() + deploymentSettings(this.room.env).alertIntervalMs;
      if (at <= now) {
        this.room.transaction(() => {
          this.outbox.enqueue(`alert:${this.room.tenant}:${unalerted.lastN}`, alertNotification(this.room.tenant, unalerted), now);
          this.deadLetters.index.markAlerted(unalerted.lastN, now);
        });
      } else comeBack = at;
    }
    for (const { id, at } of this.room.control.pendingEndpointAlerts()) {
      const endpoint = this.room.control.endpoint(id);
      this.room.transaction(() => {
        if (endpoint) this.outbox.enqueue(`endpoint-disabled:${this.room.tenant}:${id}:${at}`, endpointDisabledNotification(this.room.tenant, endpoint), now);
        this.room.control.endpointAlerted(id);
      });
    }
    if (this.outbox.pending() === 0) return comeBack;
    const retryAt = await this.outbox.deliver(await this.channels(), now);
    return retryAt === null ? comeBack : Math.min(retryAt, comeBack ?? Infinity);
  }

  /**
   * The chat services the tenant has a destination for now (Slack, Discord, Teams: each renders the
   * same message its own way). A URL the outbound address policy refuses is never called: that
   * service is left out, as with none.
   */
  private async channels(): Promise<AlertChannel[]> {
    const configuration = await openSnapshot(this.room.env, this.room.tenant, this.room.control.snapshot());
    const channels: AlertChannel[] = [];
    for (const { kind, channel } of notificationChannels()) {
      const found = destinationOf(this.room.env, configuration, kind);
      if (!found || refusedDestination(this.room.env, found)) continue;
      const url = channel.target?.(found.destination.url) ?? found.destination.url;
      channels.push({
        name: kind.kind,
        send: async (notification, idempotencyKey) => {
          try {
            const response = await fetch(url, {
              method: "POST",
              headers: { "content-type": "application/json", "user-agent": `edgeflow/${VERSION}`, "idempotency-key": idempotencyKey },
              body: JSON.stringify(channel.render(notification)),
              signal: AbortSignal.timeout(deploymentSettings(this.room.env).handlerTimeoutMs),
            });
            await response.body?.cancel();
            return channelOutcome(response.status);
          } catch (err) {
            return { kind: "failed", error: String(err).slice(0, 200) };
          }
        },
      });
    }
    return channels;
  }
}
