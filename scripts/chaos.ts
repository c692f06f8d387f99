// A history check in the Jepsen style: send events 3× concurrently in shuffled order while the
// receiver fails a share of calls and the server is SIGKILLed twice, then compare what happened
// with what was acknowledged. Lifecycle operations run under the same load: 2% of leads have
// Slack paused from their first event until every event is sent, 2% are erased once sent (and
// sent a late retry), and 5% of updates are scheduled events (deliverAt up to a minute ahead).
//   npm run chaos [-- --events 10000] [--entities 1000] [--fail-rate 0.2] [--kills 2] [--seed 7] [--concurrency 32]
// Exits non-zero on any loss, unexpected effect, stranded row or state mismatch.
import { rmSync } from "node:fs";
import { cli, numberArg } from "./lib/args.ts";
import { edgeflowOptions, startLocalServer, type RunningServer } from "./lib/local-server.ts";
import { deliveryHistories, openWork } from "./lib/inspect-state.ts";
import { remoteHandlersOf } from "./lib/registry.ts";
import { httpClient, type HttpClient } from "./lib/load.ts";
import { deliveryOf, receiverVars, seededRandom, startReceiver } from "./receiver.ts";

export interface ChaosOptions {
  events: number;
  entities: number;
  failRate: number;
  kills: number;
  seed: number;
  concurrency: number;
  drainTimeoutMs: number;
}

export const DEFAULTS: ChaosOptions = { events: 10_000, entities: 1_000, failRate: 0.2, kills: 2, seed: 7, concurrency: 32, drainTimeoutMs: 300_000 };

// The handlers whose effects the receiver can see, per event type, from the Worker's registry.
const REMOTE_HANDLERS: Record<string, string[]> = Object.fromEntries(["lead.created", "lead.updated"].map((type) => [type, remoteHandlersOf(type)]));
// Handlers that coalesce (they send the entity's current state, `coalesce: true` in
// src/handlers/*.ts): one call, under the newest event's key, delivers a burst. Their keys are
// allowed, not each required; what is required is that the lead's last call carried its final state.
const COALESCING = new Set(["crm"]);
// State fields written by handlers rather than by events (the AI handler's result).
const HANDLER_FIELDS = new Set(["analysis"]);

interface SentEvent {
  id: string;
  type: string;
  lead: string;
  occurredAt: number;
  data: Record<string, string>;
  /** A scheduled event: ms after the run starts (fixed, so every copy is the same event). */
  deliverAfterMs?: number;
  deliverAt?: number;
}

/** Lead roles in the lifecycle share of the run, by the lead's number. */
const isHeld = (lead: string) => Number(lead.slice(2)) % 50 === 1;
const isErased = (lead: string) => Number(lead.slice(2)) % 50 === 2;

export interface ChaosReport {
  options: ChaosOptions;
  sends: number;
  /** Why sends were not acknowledged and had to be re-sent: an HTTP status, or "connection". */
  resent: Record<string, number>;
  acknowledged: number;
  /** Events more than one copy of which was answered 202: a duplicate store. */
  acceptedTwice: number;
  expectedEffects: number;
  effects: number;
  deadLetters: number;
  lost: number;
  duplicateEffects: number;
  /** Duplicates whose calls straddle a kill: the call ran, the kill came before the actor recorded it. */
  duplicatesAtKill: number;
  /** Duplicates after an attempt timed out: the call outlived its attempt and landed anyway. */
  duplicatesAfterTimeout: number;
  /** Duplicates after an attempt that never reported (its queue message outlived its lease). */
  duplicatesAfterLapse: number;
  /** Duplicates nothing above explains: a bug. */
  duplicatesUnexplained: number;
  unexpectedEffects: number;
  stranded: number;
  drained: boolean;
  stateMismatches: number;
  logMismatches: number;
  /** Leads whose Slack was paused while their events were sent, and Slack calls for them while paused (must be 0). */
  held: number;
  heldViolations: number;
  /** Leads erased once sent; those answering anything but 410 afterwards, or taking a late retry (must be 0). */
  erased: number;
  resurrected: number;
  /** Calls for an erased lead that arrived more than HANDLER_TIMEOUT_MS after its erasure (must be 0). */
  effectsAfterErasure: number;
  /** Scheduled events; those appended before their deliverAt (must be 0). Appended exactly once: the log check. */
  scheduled: number;
  scheduledEarly: number;
  kills: Array<{ afterSends: number; during: string }>;
  drainSeconds: number;
  examples: string[];
}

const FIELDS = ["status", "name", "company", "source"] as const;
const VALUES: Record<(typeof FIELDS)[number], string[]> = {
  status: ["new", "contacted", "qualified", "converted", "closed"],
  name: ["Ada", "Grace", "Edsger", "Barbara", "Donald"],
  company: ["Acme", "Globex", "Initech", "Umbrella"],
  source: ["form", "crm", "import", "api"],
};

function makeEvents(options: ChaosOptions, run: string, random: () => number): SentEvent[] {
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
  // Recent enough that no follow-up timer (FOLLOW_UP_DELAY_MS after occurredAt) falls due in the run.
  const base = Date.now() - 3_600_000;
  const events: SentEvent[] = [];
  for (let i = 0; i < options.events; i++) {
    const lead = `C-${i % options.entities}`;
    // The first event of each lead creates it; the rest update random fields. occurredAt is
    // drawn from a small range so ties and out-of-order arrivals are common.
    const created = i < options.entities;
    const data: Record<string, string> = { id: lead };
    if (created) Object.assign(data, { email: `${lead.toLowerCase()}@example.com`, name: pick(VALUES.name) });
    for (const field of FIELDS) if (random() < 0.5) data[field] = pick(VALUES[field]);
    // Due within the sending (about 6 ms an event, at most a minute), so some are still waiting at a kill.
    const scheduled = !created && i % 20 === 3 ? { deliverAfterMs: 5_000 + Math.floor(random() * Math.min(60_000, options.events * 6)) } : {};
    events.push({ id: `chaos-${run}-${i}`, type: created ? "lead.created" : "lead.updated", lead, occurredAt: base + Math.floor(random() * 1000) * 1000, data, ...scheduled });
  }
  return events;
}

/** The state every replica must converge on: per field, the value of the greatest (occurredAt, id). */
function expectedStates(events: SentEvent[]): Map<string, Record<string, string>> {
  const winners = new Map<string, Map<string, SentEvent>>();
  for (const event of events) {
    const fields = winners.get(event.lead) ?? new Map<string, SentEvent>();
    for (const field of Object.keys(event.data)) {
      const current = fields.get(field);
      if (!current || event.occurredAt > current.occurredAt || (event.occurredAt === current.occurredAt && event.id > current.id)) fields.set(field, event);
    }
    winners.set(event.lead, fields);
  }
  return new Map([...winners].map(([lead, fields]) => [lead, Object.fromEntries([...fields].map(([f, e]) => [f, e.data[f]!]))]));
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const AUTH = { authorization: "Bearer dev_demo_key" };

export async function runChaos(options: ChaosOptions, log: (line: string) => void = console.log): Promise<ChaosReport> {
  const random = seededRandom(options.seed);
  const run = `${options.seed}-${Date.now().toString(36)}`;
  const events = makeEvents(options, run, random);
  const startAt = Date.now();
  for (const e of events) if (e.deliverAfterMs !== undefined) e.deliverAt = startAt + e.deliverAfterMs;
  const byId = new Map(events.map((e) => [e.id, e]));
  const HANDLER_TIMEOUT_MS = 10_000;
  const receiver = await startReceiver({ failRate: options.failRate, seed: options.seed });
  const serverOptions = edgeflowOptions({
    rateLimit: 1_000_000_000,
    vars: {
      ...receiverVars(receiver.url),
      RETRY_BASE_MS: "50",
      RETRY_MAX_DELAY_MS: "2000",
      RETRY_MAX_ATTEMPTS: "12",
      HANDLER_TIMEOUT_MS: String(HANDLER_TIMEOUT_MS),
      // A queued attempt lost with a killed server is re-sent once its lease lapses.
      QUEUE_LEASE_MS: "10000",
      FOLLOW_UP_DELAY_MS: String(7 * 86_400_000),
    },
  });

  // Every 2xx call, with the server generation it happened in (bumped at each kill).
  let epoch = 0;
  const effects = new Map<string, number[]>();
  // Per lead, the body of its latest successful CRM upsert.
  const crmBodies = new Map<string, Record<string, unknown>>();
  // Lifecycle: held leads' warm-up events (sent before the pause), when resuming began, erasures.
  const warmUp = new Set<string>();
  let resuming = false;
  const erasedAt = new Map<string, number>();
  let heldViolations = 0;
  let effectsAfterErasure = 0;
  receiver.onCall((call) => {
    if (call.status < 200 || call.status >= 300) return;
    const lead = (call.headers["edgeflow-entity"] ?? "").replace(/^lead\//, "");
    if (!resuming && isHeld(lead) && call.headers["edgeflow-handler"] === "slack" && !warmUp.has(call.headers["edgeflow-event-id"] ?? "")) heldViolations++;
    const erased = erasedAt.get(lead);
    if (erased !== undefined && call.at > erased + HANDLER_TIMEOUT_MS) effectsAfterErasure++;
    // One tenant here: the event and handler name the delivery.
    const key = deliveryOf(call.headers["idempotency-key"] ?? "");
    effects.set(key, [...(effects.get(key) ?? []), epoch]);
    const crm = /^\/crm\/contacts\/(.+)$/.exec(call.path);
    if (crm) crmBodies.set(decodeURIComponent(crm[1]!), JSON.parse(call.body) as Record<string, unknown>);
  });

  let server: RunningServer = await startLocalServer(serverOptions);
  const port = Number(new URL(server.url).port);
  let client: HttpClient = httpClient(server.url, options.concurrency * 3);
  let up: Promise<void> = Promise.resolve();
  const report: ChaosReport = {
    options,
    sends: 0,
    resent: {},
    acknowledged: 0,
    acceptedTwice: 0,
    expectedEffects: 0,
    effects: 0,
    deadLetters: 0,
    lost: 0,
    duplicateEffects: 0,
    duplicatesAtKill: 0,
    duplicatesAfterTimeout: 0,
    duplicatesAfterLapse: 0,
    duplicatesUnexplained: 0,
    unexpectedEffects: 0,
    stranded: 0,
    drained: false,
    stateMismatches: 0,
    logMismatches: 0,
    held: 0,
    heldViolations: 0,
    erased: 0,
    resurrected: 0,
    effectsAfterErasure: 0,
    scheduled: events.filter((e) => e.deliverAt !== undefined).length,
    scheduledEarly: 0,
    kills: [],
    drainSeconds: 0,
    examples: [],
  };
  const shown = new Map<string, number>();
  const example = (kind: string, line: string) => {
    shown.set(kind, (shown.get(kind) ?? 0) + 1);
    if (shown.get(kind)! <= 5) report.examples.push(line);
  };

  const duplicated = new Map<string, number[]>();

  const kill = async (during: string) => {
    let restarted!: () => void;
    up = new Promise((r) => (restarted = r));
    await server.kill();
    epoch++;
    report.kills.push({ afterSends: report.sends, during });
    log(`  SIGKILL #${report.kills.length} (${during}, after ${report.sends} sends); restarting on the same state`);
    client.close();
    server = await startLocalServer(serverOptions, { port, persistDir: server.persistDir });
    client = httpClient(server.url, options.concurrency * 3);
    restarted();
  };

  try {
    // Kill points: the first while sending, the second while sending or while draining.
    const killAt = [0.2 + random() * 0.4, 0.6 + random() * 0.6].slice(0, options.kills).map((f) => Math.floor(f * events.length));
    const accepted = new Map<string, number>();
    const acked = new Set<string>();

    // One copy: re-sent until the server acknowledges it, as a webhook sender would.
    const sendCopy = async (event: SentEvent) => {
      const body = JSON.stringify({ id: event.id, type: event.type, occurredAt: new Date(event.occurredAt).toISOString(), data: event.data, ...(event.deliverAt !== undefined ? { deliverAt: event.deliverAt } : {}) });
      for (;;) {
        await up;
        report.sends++;
        let reason = "connection";
        try {
          const answer = await client.send("POST", "/v1/events", body, AUTH);
          if (answer.status === 202 || answer.status === 200) {
            if (answer.status === 202) accepted.set(event.id, (accepted.get(event.id) ?? 0) + 1);
            acked.add(event.id);
            return;
          }
          if (answer.status < 500 && answer.status !== 429) throw new Error(`event ${event.id} was refused: ${answer.status} ${JSON.stringify(answer.body)}`);
          reason = String(answer.status);
        } catch (err) {
          if (err instanceof Error && err.message.includes("was refused")) throw err;
        }
        report.resent[reason] = (report.resent[reason] ?? 0) + 1;
        await sleep(50);
      }
    };

    /** A control request retried until it gets one of the answers it wants (the server may be restarting). */
    const control = async (method: string, path: string, body: unknown, want: number[]): Promise<number> => {
      for (;;) {
        await up;
        try {
          const answer = await client.send(method, path, body === undefined ? undefined : JSON.stringify(body), AUTH);
          if (want.includes(answer.status)) return answer.status;
          if (answer.status < 500 && answer.status !== 429) throw new Error(`${method} ${path} answered ${answer.status} ${JSON.stringify(answer.body)}`);
        } catch (err) {
          if (err instanceof Error && err.message.includes(" answered ")) throw err;
        }
        await sleep(100);
      }
    };

    // Held leads: their first event goes alone, then their Slack is paused for the rest of the sending.
    const firsts = events.filter((e) => e.type === "lead.created" && isHeld(e.lead));
    for (const e of firsts) warmUp.add(e.id);
    await Promise.all(firsts.map((e) => sendCopy(e)));
    for (const e of firsts) await control("POST", `/v1/entities/lead/${e.lead}/pause`, { handler: "slack" }, [200]);
    report.held = firsts.length;

    log(`sending ${events.length} events × 3 over ${options.entities} entities, receiver failing ${options.failRate * 100}% …`);
    const order = shuffle(events.filter((e) => !warmUp.has(e.id)), random);
    let nextIndex = 0;
    let started = 0;
    const worker = async () => {
      while (nextIndex < order.length) {
        const event = order[nextIndex++]!;
        started++;
        if (killAt[0] !== undefined && started >= killAt[0]) {
          killAt.shift();
          void kill("while sending");
        }
        await Promise.all([sendCopy(event), sendCopy(event), sendCopy(event)]);
      }
    };
    await Promise.all(Array.from({ length: options.concurrency }, worker));
    await up;
    report.acknowledged = acked.size;

    // Every event is in: the held leads resume and drain; the erased leads go, then get a late retry.
    resuming = true;
    for (const e of firsts) await control("POST", `/v1/entities/lead/${e.lead}/resume`, {}, [200]);
    const erasedLeads = [...new Set(events.filter((e) => isErased(e.lead)).map((e) => e.lead))];
    for (const lead of erasedLeads) {
      await control("DELETE", `/v1/entities/lead/${lead}`, undefined, [204, 410]);
      erasedAt.set(lead, Date.now());
      const late = events.find((e) => e.lead === lead)!;
      const status = await control("POST", "/v1/events", { id: late.id, type: late.type, occurredAt: new Date(late.occurredAt).toISOString(), data: late.data }, [200, 202, 410]);
      if (status !== 410) {
        report.resurrected++;
        example("resurrected", `resurrected: a late retry for erased ${lead} answered ${status}`);
      }
    }
    report.erased = erasedLeads.length;
    report.acceptedTwice = [...accepted.values()].filter((n) => n > 1).length;

    // Expected effects: every acknowledged event's remote handlers, once each; a coalescing
    // handler's keys are allowed, and its last call per lead must carry the lead's final state.
    const expected = new Set<string>();
    const allowed = new Set<string>();
    for (const id of acked) {
      // An erased lead's deliveries may or may not have happened before it went: allowed, not required.
      const erased = isErased(byId.get(id)!.lead);
      for (const handler of REMOTE_HANDLERS[byId.get(id)!.type] ?? []) (COALESCING.has(handler) || erased ? allowed : expected).add(`${id}:${handler}`);
    }
    report.expectedEffects = expected.size;
    const finalStates = expectedStates(events.filter((e) => acked.has(e.id) && !isErased(e.lead)));
    const idsByLead = new Map<string, string[]>();
    for (const e of events) idsByLead.set(e.lead, [...(idsByLead.get(e.lead) ?? []), e.id]);
    /** Leads whose CRM has not seen their final state, and whose CRM delivery is not a dead letter. */
    const crmBehind = (dead: Set<string>): string[] =>
      [...finalStates].filter(([lead, want]) => {
        const body = crmBodies.get(lead);
        if (body && Object.entries(want).every(([field, value]) => body[field] === value)) return false;
        return !(idsByLead.get(lead) ?? []).some((id) => dead.has(`${id}:crm`));
      }).map(([lead]) => lead);

    const deadKeys = async (): Promise<Set<string>> => {
      const keys = new Set<string>();
      let cursor = 0;
      for (;;) {
        const answer = await client.send("GET", `/v1/dead-letters?limit=500&cursor=${cursor}`, undefined, AUTH);
        if (answer.status !== 200) throw new Error(`dead-letters answered ${answer.status}`);
        const page = answer.body as { deadLetters: Array<{ eventId: string; handler: string }>; next: number | null };
        for (const d of page.deadLetters) keys.add(`${d.eventId}:${d.handler}`);
        if (page.next === null || page.next === undefined) return keys;
        cursor = page.next;
      }
    };

    log(`draining ${expected.size} expected effects …`);
    const drainStart = Date.now();
    let dead = new Set<string>();
    const settled = () => [...expected].filter((key) => effects.has(key) || dead.has(key)).length;
    const secondKillAfter = killAt.length > 0 ? drainStart + random() * 3_000 : Infinity;
    while (Date.now() - drainStart < options.drainTimeoutMs) {
      if (Date.now() >= secondKillAfter && killAt.length > 0) {
        killAt.shift();
        await kill("while draining");
      }
      try {
        dead = await deadKeys();
      } catch {
        // The server may be restarting; ask again.
      }
      if (killAt.length === 0 && settled() === expected.size && crmBehind(dead).length === 0) {
        report.drained = true;
        break;
      }
      await sleep(500);
    }
    report.drainSeconds = (Date.now() - drainStart) / 1000;
    dead = await deadKeys();
    report.deadLetters = dead.size;

    for (const key of expected) {
      if (!effects.has(key) && !dead.has(key)) {
        report.lost++;
        example("lost", `lost: ${key}`);
      }
    }
    for (const lead of crmBehind(dead)) {
      report.lost++;
      example("lost", `lost: the CRM never saw the final state of ${lead}`);
    }
    for (const [key, epochs] of effects) {
      report.effects++;
      if (!expected.has(key) && !allowed.has(key)) {
        report.unexpectedEffects++;
        example("unexpected", `unexpected effect: ${key}`);
      }
      if (epochs.length > 1) duplicated.set(key, epochs);
    }

    // Every entity: its state equals the merge of the events sent for it, and its log holds each once.
    const states = expectedStates(events);
    const perLead = new Map<string, number>();
    for (const e of events) perLead.set(e.lead, (perLead.get(e.lead) ?? 0) + 1);
    for (const [lead, want] of states) {
      const answer = await client.send("GET", `/v1/entities/lead/${lead}`, undefined, AUTH);
      if (isErased(lead)) {
        if (answer.status !== 410) {
          report.resurrected++;
          example("resurrected", `resurrected: erased ${lead} answers ${answer.status}`);
        }
        continue;
      }
      const view = answer.body as { state: Record<string, unknown>; events: { count: number } };
      const got = Object.fromEntries(Object.entries(view.state ?? {}).filter(([field]) => !HANDLER_FIELDS.has(field)));
      if (JSON.stringify(got, Object.keys(got).sort()) !== JSON.stringify(want, Object.keys(want).sort())) {
        report.stateMismatches++;
        example("state", `state of ${lead}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
      }
      if (view.events?.count !== perLead.get(lead)) {
        report.logMismatches++;
        example("log", `log of ${lead}: ${view.events?.count} events stored, ${perLead.get(lead)} sent`);
      }
      // Its scheduled events: appended (the count above says once), and not before deliverAt.
      const scheduled = events.filter((e) => e.lead === lead && e.deliverAt !== undefined);
      if (scheduled.length > 0) {
        const page = (await client.send("GET", `/v1/entities/lead/${lead}/events?limit=500`, undefined, AUTH)).body as { events: Array<{ id: string; receivedAt: string }> };
        for (const e of scheduled) {
          const stored = page.events.find((p) => p.id === e.id);
          if (stored && Date.parse(stored.receivedAt) < e.deliverAt!) {
            report.scheduledEarly++;
            example("early", `scheduled event ${e.id} appended at ${stored.receivedAt}, before its deliverAt ${new Date(e.deliverAt!).toISOString()}`);
          }
        }
      }
    }
    report.heldViolations = heldViolations;
    report.effectsAfterErasure = effectsAfterErasure;
  } finally {
    client.close();
    await server.stop();
    await receiver.close();
  }

  // With the server stopped, read what the actors recorded about each duplicated delivery.
  const histories = duplicated.size > 0 ? deliveryHistories(server.persistDir) : new Map();
  for (const [key, epochs] of duplicated) {
    report.duplicateEffects++;
    const history = histories.get(key);
    if (new Set(epochs).size > 1) report.duplicatesAtKill++;
    else if (history && history.timeouts > 0) report.duplicatesAfterTimeout++;
    else if (history && history.unreported > 0) report.duplicatesAfterLapse++;
    else {
      report.duplicatesUnexplained++;
      example("duplicate", `duplicate effect nothing explains: ${key} ×${epochs.length}`);
    }
  }

  // With the server stopped, look for work that nothing will ever wake.
  for (const work of openWork(server.persistDir)) {
    if (work.alarmAt === null) {
      report.stranded++;
      example("stranded", `stranded: actor ${work.actor} has ${work.open} open rows and no alarm`);
    }
  }
  // A failed run keeps its state for a closer look; a passing one leaves nothing behind.
  if (failed(report)) log(`server state kept in ${server.persistDir}`);
  else rmSync(server.persistDir, { recursive: true, force: true });
  return report;
}

/**
 * The run failed: anything lost, unexpected, stranded or divergent, or a duplicate that neither a
 * kill, a timeout nor a lease lapse explains. Explained duplicates are what at-least-once delivery
 * with an idempotency key allows; they are reported, not failed.
 */
export function failed(r: ChaosReport): boolean {
  return (
    r.lost > 0 ||
    r.unexpectedEffects > 0 ||
    r.duplicatesUnexplained > 0 ||
    r.stranded > 0 ||
    r.stateMismatches > 0 ||
    r.logMismatches > 0 ||
    r.acceptedTwice > 0 ||
    r.heldViolations > 0 ||
    r.resurrected > 0 ||
    r.effectsAfterErasure > 0 ||
    r.scheduledEarly > 0 ||
    !r.drained
  );
}

export function formatChaos(r: ChaosReport): string {
  const o = r.options;
  return [
    `events ${o.events} over ${o.entities} entities, each sent 3× concurrently; receiver failing ${o.failRate * 100}%; seed ${o.seed}`,
    `kills: ${r.kills.map((k) => `after ${k.afterSends} sends (${k.during})`).join("; ") || "none"}`,
    `sends (incl. re-sends)        ${r.sends}${Object.keys(r.resent).length ? ` (re-sent after: ${Object.entries(r.resent).map(([why, n]) => `${n}× ${why}`).join(", ")})` : ""}`,
    `acknowledged events           ${r.acknowledged} / ${o.events}`,
    `stored twice (two 202s)       ${r.acceptedTwice}`,
    `expected effects              ${r.expectedEffects}`,
    `keys with an effect           ${r.effects}`,
    `dead letters                  ${r.deadLetters}`,
    `lost                          ${r.lost}`,
    `duplicate effects             ${r.duplicateEffects}: ${r.duplicatesAtKill} in flight at a kill, ${r.duplicatesAfterTimeout} after a timed-out attempt, ${r.duplicatesAfterLapse} after a lapsed lease, ${r.duplicatesUnexplained} unexplained`,
    `unexpected effects            ${r.unexpectedEffects}`,
    `stranded actors               ${r.stranded}`,
    `state mismatches              ${r.stateMismatches}`,
    `event-log mismatches          ${r.logMismatches}`,
    `paused leads                  ${r.held}; Slack calls while paused: ${r.heldViolations}`,
    `erased leads                  ${r.erased}; resurrected: ${r.resurrected}; calls after erasure: ${r.effectsAfterErasure}`,
    `scheduled events              ${r.scheduled}; appended before deliverAt: ${r.scheduledEarly}`,
    `drained                       ${r.drained ? `yes, in ${r.drainSeconds.toFixed(1)} s` : `NO, gave up after ${r.drainSeconds.toFixed(0)} s`}`,
    ...r.examples.map((e) => `  ${e}`),
    failed(r) ? "FAIL" : "PASS",
  ].join("\n");
}

const USAGE = "npm run chaos -- [--events N] [--entities N] [--fail-rate R] [--kills N] [--seed N] [--concurrency N] [--drain-timeout-ms N]";

function chaosArgs(): ChaosOptions {
  const v = cli(USAGE, {
    events: { type: "string" },
    entities: { type: "string" },
    "fail-rate": { type: "string" },
    kills: { type: "string" },
    seed: { type: "string" },
    concurrency: { type: "string" },
    "drain-timeout-ms": { type: "string" },
  });
  const events = numberArg(v.events, "events") ?? DEFAULTS.events;
  return {
    ...DEFAULTS,
    events,
    // Ten events per entity unless told otherwise.
    entities: numberArg(v.entities, "entities") ?? Math.max(1, Math.ceil(events / 10)),
    failRate: numberArg(v["fail-rate"], "fail-rate") ?? DEFAULTS.failRate,
    kills: numberArg(v.kills, "kills") ?? DEFAULTS.kills,
    seed: numberArg(v.seed, "seed") ?? DEFAULTS.seed,
    concurrency: numberArg(v.concurrency, "concurrency") ?? DEFAULTS.concurrency,
    drainTimeoutMs: numberArg(v["drain-timeout-ms"], "drain-timeout-ms") ?? DEFAULTS.drainTimeoutMs,
  };
}

if (import.meta.main) {
  const report = await runChaos(chaosArgs(), (line) => console.error(line));
  console.log(formatChaos(report));
  process.exitCode = failed(report) ? 1 : 0;
}
