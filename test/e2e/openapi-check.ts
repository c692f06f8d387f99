// Every answer the end-to-end tests get from an edgeflow server is checked against openapi.json
// with a JSON Schema validator (Ajv, draft 2020-12, which OpenAPI 3.1 uses): its path and method
// must be documented, its status listed for that operation, and a JSON body must match the
// documented schema. test/e2e/setup.ts installs this around `fetch` for every e2e file.
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import document from "../../openapi.json" with { type: "json" };

interface Operation {
  responses: Record<string, { content?: Record<string, unknown> }>;
}

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats.default(ajv);
ajv.addSchema(document, "openapi");

const paths = Object.entries(document.paths as Record<string, Record<string, Operation>>).map(([template, operations]) => ({
  template,
  pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, "[^/]+")}$`),
  operations,
}));

/** Routes outside the public API, never documented: `npm run cost`'s usage counter. */
const UNDOCUMENTED = new Set(["/_usage"]);

const pointer = (...parts: string[]) => parts.map((p) => p.replace(/~/g, "~0").replace(/\//g, "~1")).join("/");

/** What is wrong with one answer, or null if it is as documented. */
export function checkAnswer(method: string, pathname: string, status: number, contentType: string | null, body: string): string | null {
  if (UNDOCUMENTED.has(pathname)) return null;
  const what = `${method} ${pathname} → ${status}`;
  const path = paths.find((p) => p.pattern.test(pathname));
  const operation = path?.operations[method.toLowerCase()];
  if (!path || !operation) {
    // An undocumented route must still answer with the documented error shape.
    if (status < 400) return `${what}: the route is not documented`;
    return validate(`#/components/schemas/Error`, body, what);
  }
  const response = operation.responses[String(status)];
  if (!response) return `${what}: status ${status} is not documented for ${method} ${path.template}`;
  if (!response.content) return body === "" ? null : `${what}: documented without a body, but has one`;
  const type = Object.keys(response.content)[0]!;
  if (!(contentType ?? "").startsWith(type)) return `${what}: content type ${contentType}, documented ${type}`;
  if (type !== "application/json") return null;
  return validate(`#/${pointer("paths", path.template, method.toLowerCase(), "responses", String(status), "content", type, "schema")}`, body, what);
}

function validate(at: string, body: string, what: string): string | null {
  const check = ajv.getSchema(`openapi${at}`);
  if (!check) return `${what}: no schema at ${at}`;
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return `${what}: the body is not JSON`;
  }
  return check(value) ? null : `${what}: ${ajv.errorsText(check.errors)} in ${body.slice(0, 300)}`;
}
