// Which way imports run (ARCHITECTURE.md, "The rooms"); `npm test` runs this check (`npm run deps`).
// From the top: the Worker's entry (src/index.ts); the router's own modules (src/router/); the
// actors (actors/); the delivery machinery (src/delivery/); the contracts between router and
// actors (src/rpc/); the control plane (src/control/); the handlers (src/handlers/); event types
// and the delivery policy (src/events/, src/delivery/policy/); field schemas (src/schemas/); leaves.
// The layer rules hold for value imports; cycles are refused for type-only imports too, since a
// type that points up the layers is a dependency waiting to become a value one.
/** @type {import('dependency-cruiser').IConfiguration} */
const below = (from, ...to) => ({ from: { path: from }, to: { path: to.length === 1 ? to[0] : `(${to.join("|")})`, dependencyTypesNot: ["type-only"] } });
/** The same, type-only imports included. */
const strictlyBelow = (from, ...to) => ({ from: { path: from }, to: { path: to.length === 1 ? to[0] : `(${to.join("|")})` } });

module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "A cycle makes load order decide what a module sees at start-up; a type cycle hides a layer pointing up.",
      from: {},
      to: { circular: true },
    },
    {
      name: "src-below-actors",
      severity: "error",
      comment: "The Worker's modules reach actors through RPC stubs (src/rpc/actors.ts); only the entry point exports the classes.",
      ...below("^src/(?!index\\.ts$)", "^actors/"),
    },
    {
      name: "router-only-from-entry",
      severity: "error",
      comment: "The router's own modules (routes, auth, bodies) are the top: only the entry wires them, and nothing of the actors or the delivery machinery reaches up to them.",
      ...below("^(src/(?!index\\.ts$)(?!router/)|actors/|client/)", "^src/router/"),
    },
    {
      name: "entry-point-is-top",
      severity: "error",
      comment: "Nothing imports the Worker's entry point.",
      ...strictlyBelow("^(src/(?!index\\.ts$)|actors/|client/)", "^src/index\\.ts$"),
    },
    {
      name: "delivery-below-router-and-actors",
      severity: "error",
      comment: "The delivery machinery (gate, runner, queue consumer) serves the actors and the entry; it never reaches up to them.",
      ...strictlyBelow("^src/delivery/", "^(src/router/|actors/)"),
    },
    {
      name: "control-above-handlers",
      severity: "error",
      comment: "Handlers know destinations through their kinds (src/handlers/kinds.ts) and read the tenant's configuration through HandlerTenant; the control plane stores it.",
      ...strictlyBelow("^src/handlers/", "^src/(control|delivery/(?!policy/))"),
    },
    {
      name: "handlers-above-events-and-policy",
      severity: "error",
      comment: "Event types and the delivery policy know no handler; handlers declare what they take.",
      ...strictlyBelow("^src/(events|delivery/policy)/", "^src/(handlers|control|delivery/(?!policy/))"),
    },
    {
      name: "events-above-schemas",
      severity: "error",
      comment: "Field schemas are shared building blocks; event types and the envelope use them.",
      ...strictlyBelow("^src/schemas/", "^src/(events|handlers|control|delivery)/"),
    },
    {
      name: "leaves-stay-leaves",
      severity: "error",
      comment: "Signature schemes, the address policy and metrics formats depend on nothing above them (metrics/record.ts, which flushes counts to the tenant's actor, is not a format).",
      ...strictlyBelow("^src/(sources|net|metrics/(?!record\\.ts$))", "^src/(events|handlers|control|delivery|router|rpc)/"),
    },
    {
      name: "api-declarations-are-data",
      severity: "error",
      comment: "Route declarations and the contract's errors are what the client shares with the server: they import no Worker code (the OpenAPI builder and the component schemas alone read the registries).",
      ...below("^src/api/(?!(openapi|schemas)\\.ts$)", "^(src/(?!api/)|actors/)"),
    },
    {
      name: "actor-rooms-below-actors",
      severity: "error",
      comment: "An actor's rooms (actors/entity, actors/tenant) serve their class; shared pieces serve all.",
      ...strictlyBelow("^actors/(entity|tenant|shared)/", "^actors/[^/]+\\.ts$"),
    },
    {
      name: "actor-rooms-apart",
      severity: "error",
      comment: "Entity and tenant actors talk over RPC, never by importing each other's rooms.",
      from: { path: "^actors/(entity|tenant)/" },
      to: { path: "^actors/(entity|tenant)/", pathNot: "^actors/$1/" },
    },
    {
      name: "client-stands-alone",
      severity: "error",
      comment: "The typed client runs in browsers and Node: it takes the server's types and its route declarations, never its code.",
      ...below("^client/", "^(src/(?!api/)|actors/)"),
    },
    {
      name: "shared-below-rooms",
      severity: "error",
      ...strictlyBelow("^actors/shared/", "^actors/(entity|tenant)/"),
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "node_modules" },
    tsConfig: { fileName: "tsconfig.json" },
    tsPreCompilationDeps: true,
    moduleSystems: ["es6"],
  },
};
