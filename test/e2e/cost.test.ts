// `npm run cost` at toy scale: a real server and receiver, every unit counted from the server's own
// counters. The exact counts asserted here are the ones each event must cost; the row budgets are
// the engine's current ones and only ever go down.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatCost, runCost, type ScenarioCost } from "../../scripts/cost.ts";
import { removeBuild } from "../../scripts/lib/local-server.ts";

/**
 * Rows written in Durable Objects per event, with every handler configured, counted as Cloudflare
 * bills them: SQLite rows plus each `setAlarm`/`deleteAlarm`/`deleteAll` (one row each). A new
 * entity's set-up (its log table, 2 rows; the id index waits for its 32nd event; its head row waits
 * for its first turn, its first log row saying who it is) is part of `lead.created` and
 * `offer.submitted`. `npm run cost -- --events 50` measures 3, 9 and 6, of which 1 (2 for
 * `lead.created`, whose follow-up is a second wake) is an alarm operation (BENCHMARKS.md, 0.12):
 * `lead.updated` is its log row at ingest, the head once when the queued report settles the
 * cursors, and the ingest's `setAlarm`; the alarm waits for the report, so it is neither re-armed
 * for the lease's end nor deleted when the report comes. A report that misses the wait (a loaded
 * machine) costs those 2 rows again, so `lead.updated` keeps one row of room over what it measures.
 * `lead.created`'s and `offer.submitted`'s budgets are the targets.
 */
const BUDGET_LEAD_UPDATED = 4;
const BUDGET_LEAD_CREATED = 10;
const BUDGET_OFFER_SUBMITTED = 7;
/**
 * Durable Object requests per lead.updated: the ingest, the alarm that fans out and the queue
 * consumer's claim, whose report rides on the claim's session. A report that comes after the
 * session's hold (a call slower than 96 ms, as on a loaded machine) is a request of its own.
 */
const BUDGET_REQUESTS_LEAD_UPDATED = 3;
/**
 * Rows read per lead.updated; `npm run cost -- --events 50` measures 8 (BENCHMARKS.md, 0.10: the
 * dedupe lookup scans a log short of its id index).
 */
const BUDGET_ROWS_READ_LEAD_UPDATED = 10;

/**
 * Rows written per lifecycle operation (alarm operations included), as `npm run cost` measures them
 * (BENCHMARKS.md): an export writes nothing; holding 10 events costs what 10 batched events do (2
 * each, their entity being short of the id index) and no row per held event; a replay costs a
 * pending row per event, written again when it settles, plus the first exception tables; a
 * compaction a delete per event and a quarter of a digest row per event, plus the one event whose
 * turn compacts.
 */
const OPERATION_BUDGETS: Array<[prefix: string, rows: number]> = [
  // Its timer goes into the head at ingest (no log row says it yet): one row over a plain event.
  ["a scheduled event", BUDGET_LEAD_UPDATED + 1],
  ["pause, 10 held events, resume", 20],
  ["an export", 0],
  ["an erasure", 8],
  ["a replay of 10 events", 50],
  ["a compaction of 100 events", 140],
  // By reference: a 900 KB event's rows are a small event's, but for the head its ingest writes
  // (the state's references are sized from data the row does not keep).
  ["a large event", BUDGET_LEAD_UPDATED + 1],
];

let results: ScenarioCost[];
let operations: ScenarioCost[];
const scenario = (prefix: string) => {
  const found = results.find((r) => r.name.startsWith(prefix));
  if (!found) throw new Error(`no scenario ${prefix}`);
  return found;
};

describe("npm run cost (small run)", () => {
  beforeAll(async () => {
    const report = await runCost({ events: 4, settleTimeoutMs: 60_000, operations: true });
    results = report.scenarios;
    operations = report.operations;
  }, 290_000);
  afterAll(removeBuild);

  it("measures every scenario and prices it", () => {
    expect(results.map((r) => r.events)).toEqual([4, 4, 4, 4, 4, 4, 4, 4]);
    const table = formatCost(results);
    for (const r of results) {
      expect(table).toContain(r.name);
      expect(r.dollarsPerMillion.total).toBeGreaterThan(0);
      // Edgeflow's isolate (sampled, priced) and the whole local workerd beside it.
      expect(r.perEvent.workerCpuMs).toBeGreaterThan(0);
      expect(r.workerdCpuMs).toBeGreaterThan(0);
      expect(r.topFrames?.length).toBeGreaterThan(0);
    }
  });

  it("counts exactly one Analytics Engine point and one HTTP invocation per single event", () => {
    for (const name of ["lead.created", "lead.updated (existing", "offer.submitted"]) {
      const r = scenario(name);
      expect(r.perEvent.analyticsPoints).toBe(1);
      // One POST per event; the queued handlers add one consumer invocation per queue batch.
      expect(r.perEvent.workerInvocations).toBeGreaterThanOrEqual(1);
    }
    // Ten events per request.
    expect(scenario("lead.updated, batches").perEvent.analyticsPoints).toBe(1);
  });

  it("sends one queue message per entity turn, carrying every queued handler: a write, a read and a delete each", () => {
    // lead.created: crm and ai-analysis together; lead.updated: crm; offer.submitted: offer-analysis.
    // Single events on distinct entities: one message per event (counters are per event).
    expect(scenario("lead.created").counters.queueWrites).toBe(1);
    expect(scenario("lead.updated (existing").counters.queueWrites).toBe(1);
    expect(scenario("offer.submitted").counters.queueWrites).toBe(1);
    for (const r of results) {
      expect(r.counters.queueReads).toBeGreaterThanOrEqual(r.counters.queueWrites);
      expect(r.counters.queueDeletes).toBe(r.counters.queueWrites);
    }
  });

  it("counts the D1 mirror's rows and every Durable Object request", () => {
    // The entity's state only (a row per event is a setting, off by default): at most 1.5 D1 rows
    // per event on average, and a burst of one entity's events is one upsert.
    expect(scenario("lead.updated (existing").perEvent.d1RowsWritten).toBeLessThanOrEqual(1.5);
    expect(scenario("lead.updated, batches").perEvent.d1RowsWritten).toBeLessThanOrEqual(1.5);
    // A new lead or offer is one row: its table keeps rows in its key's tree (WITHOUT ROWID, migration 0003),
    // where a rowid table wrote a second row for the key's index.
    expect(scenario("offer.submitted").perEvent.d1RowsWritten).toBeLessThanOrEqual(1);
    expect(scenario("lead.created, tenant with only Slack").perEvent.d1RowsWritten).toBeLessThanOrEqual(1);
    for (const r of results) {
      expect(r.perEvent.d1RowsWritten).toBeGreaterThan(0);
      expect(r.counters.entityRequests).toBeGreaterThan(0);
      expect(r.counters.entityRowsWritten).toBeGreaterThan(0);
    }
    // A single event's ingest call at least; the alarm that fans out comes on top. (Bursts for one
    // entity share ingest calls and turns.)
    for (const name of ["lead.created", "lead.updated (existing", "offer.submitted"]) expect(scenario(name).counters.entityRequests).toBeGreaterThanOrEqual(2);
  });

  it("makes one Durable Object request per queued call: the report rides on the claim's session", () => {
    const r = scenario("lead.updated (existing");
    expect(r.counters.entityRequests).toBe(BUDGET_REQUESTS_LEAD_UPDATED);
    // A report made after its session was let go is one more request, counted apart; quick calls make none.
    expect(r.counters.entityReportRequests).toBeLessThan(1);
    expect(r.counters.entityHeldMs).toBeGreaterThan(0);
  });

  it("counts alarm operations as rows written, where they are made", () => {
    for (const name of ["lead.created", "lead.updated (existing", "offer.submitted"]) {
      const r = scenario(name);
      // At least the ingest's setAlarm per single event; included in the rows written.
      expect(r.counters.entityKvWrites).toBeGreaterThanOrEqual(1);
      expect(r.perEvent.doRowsWritten).toBeGreaterThanOrEqual(r.counters.entityRowsWritten + r.counters.entityKvWrites);
    }
    // A single event with a queued handler: its ingest's setAlarm, and (should its report miss the
    // alarm's wait) the re-arm and the delete; never more.
    expect(scenario("lead.updated (existing").counters.entityKvWrites).toBeLessThanOrEqual(3);
    expect(scenario("offer.submitted").counters.entityKvWrites).toBeLessThanOrEqual(3);
  });

  it("stays within the row-write budgets of the cursor engine (Durable Object SQLite rows per event)", () => {
    expect(scenario("lead.updated (existing").perEvent.doRowsWritten).toBeLessThanOrEqual(BUDGET_LEAD_UPDATED);
    expect(scenario("lead.created").perEvent.doRowsWritten).toBeLessThanOrEqual(BUDGET_LEAD_CREATED);
    expect(scenario("offer.submitted").perEvent.doRowsWritten).toBeLessThanOrEqual(BUDGET_OFFER_SUBMITTED);
  });

  it("reads the log's new events once per turn, not once per handler (Durable Object rows read per event)", () => {
    // The ingest's dedupe lookup, one page of the log per turn, the queued work's event at its claim
    // and at its report, and the head: 8 for a lead.updated, where a read per handler made it 23.
    expect(scenario("lead.updated (existing").perEvent.doRowsRead).toBeLessThanOrEqual(BUDGET_ROWS_READ_LEAD_UPDATED);
  });

  it("holds the same budgets for a tenant with only Slack configured: an unconfigured handler costs no row", () => {
    const created = scenario("lead.created, tenant with only Slack");
    const updated = scenario("lead.updated, tenant with only Slack");
    expect(created.perEvent.doRowsWritten).toBeLessThanOrEqual(BUDGET_LEAD_CREATED);
    expect(updated.perEvent.doRowsWritten).toBeLessThanOrEqual(BUDGET_LEAD_UPDATED);
    // Fewer handlers run: no more rows than the fully configured tenant's same event.
    expect(updated.perEvent.doRowsWritten).toBeLessThanOrEqual(scenario("lead.updated (existing").perEvent.doRowsWritten);
    expect(updated.counters.queueWrites).toBe(0);
  });

  it("holds each lifecycle operation to its row budget", () => {
    for (const [prefix, budget] of OPERATION_BUDGETS) {
      const found = operations.find((o) => o.name.startsWith(prefix));
      expect(found, prefix).toBeDefined();
      expect(found!.perEvent.doRowsWritten, prefix).toBeLessThanOrEqual(budget);
    }
    // The large event: one put, and a get for each reader of its data (Slack, CRM, endpoint none here).
    const large = operations.find((o) => o.name.startsWith("a large event"))!;
    expect(large.counters.r2ClassA).toBe(1);
    expect(large.counters.r2ClassB).toBeGreaterThan(0);
    // A rate limit's slots come in batches: at most one limiter request per 10 calls, and a first.
    const limited = operations.find((o) => o.name.startsWith("20 offers to an endpoint rate-limited"))!;
    expect(limited.counters.limiterRequests).toBeGreaterThan(0);
    expect(limited.counters.limiterRequests).toBeLessThanOrEqual(3);
    // A schedule's 5 firings each ingest an event: rows for each, and none lost.
    expect(operations.find((o) => o.name.startsWith("a schedule firing"))!.counters.entityRowsWritten).toBeGreaterThan(0);
  });
});
