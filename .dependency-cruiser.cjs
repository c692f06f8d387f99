// Which way imports run (ARCHITECTURE.md, "Imports run one way"); `npm test` runs this check
// (`npm run deps`). Value imports only: a type-only import is erased at build time and ties no
// module to another's load order, so it may point anywhere.
/** @type {import('dependency-cruiser').IConfiguration} */
const below = (from, ...to) => ({ from: { path: from }, to: { path: to.length === 1 ? to[0] : `(${to.join("|")})`, dependencyTypesNot: ["type-only"] } });

module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "A cycle makes load order decide what a module sees at start-up.",
      from: {},
      to: { circular: true, dependencyTypesNot: ["type-only"], viaOnly: { dependencyTypesNot: ["type-only"] } },
    },
    {
      name: "src-below-actors",
      severity: "error",
      comment: "The Worker's modules reach actors through RPC stubs (src/stubs.ts); only the entry point exports the classes.",
      ...below("^src/(?!index\\.ts$)", "^actors/"),
    },
    {
      name: "routes-only-from-entry",
      severity: "error",
      comment: "HTTP routes are the top: only the router (src/index.ts) wires them.",
      ...below("^(src/(?!index\\.ts$)(?!routes/)|actors/)", "^src/routes/"),
    },
    {
      name: "entry-points-are-top",
      severity: "error",
      comment: "Nothing imports the Worker's entry points.",
      ...below("^(src/(?!index\\.ts$)|actors/)", "^src/(index|queue)\\.ts$"),
    },
    {
      name: "control-above-handlers",
      severity: "error",
      comment: "Handlers know destinations through their kinds (src/handlers/kinds.ts); the control plane stores them.",
      ...below("^src/handlers/", "^src/control/"),
    },
    {
      name: "handlers-above-events-and-delivery",
      severity: "error",
      comment: "Event types and the delivery policy know no handler; handlers declare what they take.",
      ...below("^src/(events|delivery)/", "^src/(handlers|control)/"),
    },
    {
      name: "events-above-schemas",
      severity: "error",
      comment: "Field schemas are shared building blocks; event types and the envelope use them.",
      ...below("^src/schemas/", "^src/(events|handlers|control)/"),
    },
    {
      name: "leaves-stay-leaves",
      severity: "error",
      comment: "Signature schemes, the address policy and metrics formats depend on nothing above them.",
      ...below("^src/(sources|net|metrics)/", "^src/(events|handlers|control|delivery)/"),
    },
    {
      name: "actor-rooms-below-actors",
      severity: "error",
      comment: "An actor's rooms (actors/entity, actors/tenant) serve their class; shared pieces serve all.",
      ...below("^actors/(entity|tenant|shared)/", "^actors/[^/]+\\.ts$"),
    },
    {
      name: "actor-rooms-apart",
      severity: "error",
      comment: "Entity and tenant actors talk over RPC, never by importing each other's rooms.",
      from: { path: "^actors/(entity|tenant)/" },
      to: { path: "^actors/(entity|tenant)/", pathNot: "^actors/$1/", dependencyTypesNot: ["type-only"] },
    },
    {
      name: "client-stands-alone",
      severity: "error",
      comment: "The typed client runs in browsers and Node: it takes the server's types, never its code.",
      ...below("^src/client\\.ts$", "^(src|actors)/"),
    },
    {
      name: "shared-below-rooms",
      severity: "error",
      ...below("^actors/shared/", "^actors/(entity|tenant)/"),
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
