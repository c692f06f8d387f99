// A kind of destination (slack, email, crm, …) is declared once, by the handler file that sends to
// it, as a list of fields. Everything else about the kind is derived from that list: the schema
// `PUT /v1/destinations/{kind}` and TENANTS validate against, which fields are shown masked, the
// deployment variables of the deployment-wide destination, what a local receiver answers for them,
// the OpenAPI schema, the dashboard's form, the CLI's options and the README's table.
import { nonempty, object, optional, size, string, type Struct } from "superstruct";
import { HttpUrl } from "../schemas/common.ts";
import { DeliveryControlFields } from "../delivery/policy/controls.ts";

export interface DestinationField {
  /** The JSON field, e.g. `url`, `apiKey`. */
  name: string;
  /** What forms and tables call it. */
  label: string;
  /** `url`: an absolute http(s) URL, checked by the outbound address policy when a tenant sets it. */
  type: "url" | "text";
  /** Longest text allowed (default 1024). */
  max?: number;
  required: boolean;
  /** Shown masked: credentials, and URLs that are one (whoever has a webhook URL can post). */
  secret: boolean;
  /** The deployment variable that supplies the field for the deployment-wide destination. */
  variable: string;
  /** What a local receiver answers for the variable: a path under its URL, or a fixed value. */
  local?: { path: string } | { value: string };
}

type Value<F extends readonly DestinationField[]> = { [P in F[number] as P["required"] extends true ? P["name"] : never]: string } & {
  [P in F[number] as P["required"] extends true ? never : P["name"]]?: string;
};

export interface DestinationKindDef<K extends string = string, F extends readonly DestinationField[] = readonly DestinationField[]> {
  kind: K;
  /** One line for the README and the OpenAPI document. */
  summary: string;
  fields: F;
  /** What `PUT /v1/destinations/{kind}` and TENANTS take (its fields and the delivery controls); unknown fields are refused. */
  schema: Struct<Fields, unknown>;
  /** The destination's value type, for the handlers; never read at run time. */
  readonly value?: Value<F>;
}

/** Every kind's value: a required `url` (defineDestination refuses a kind without one) and text fields. */
type Fields = { url: string } & Record<string, string>;

/** The value of a destination of this kind; its `url` is there whatever the kind. */
export type DestinationValue<D extends DestinationKindDef> = NonNullable<D["value"]> & { url: string };

/** Declares a destination kind; its name and fields stay literal types, so handlers get typed values. */
export function defineDestination<const K extends string, const F extends readonly DestinationField[]>(spec: {
  kind: K;
  summary: string;
  fields: F;
}): DestinationKindDef<K, F> {
  if (!spec.fields.some((f) => f.name === "url" && f.type === "url" && f.required)) {
    // Every destination is called over HTTP, and the address policy checks its `url`.
    throw new Error(`destination kind ${spec.kind} has no required url field`);
  }
  const shape: Record<string, Struct<string | undefined, null>> = {};
  for (const field of spec.fields) {
    const base: Struct<string, null> = field.type === "url" ? HttpUrl : size(nonempty(string()), 1, field.max ?? 1024);
    shape[field.name] = field.required ? (base as Struct<string | undefined, null>) : optional(base);
  }
  // Every destination also takes the delivery controls (rate and concurrency limits, gate.ts).
  return { ...spec, schema: object({ ...shape, ...DeliveryControlFields }) as unknown as Struct<Fields, unknown> };
}

const set = (value: unknown): value is string => typeof value === "string" && value !== "";

/** The deployment-wide destination of a kind, from its variables; null unless every required one is set. */
export function deploymentDestination<D extends DestinationKindDef>(env: Cloudflare.Env, kind: D): DestinationValue<D> | null {
  const vars = env as unknown as Record<string, unknown>;
  const out: Record<string, string> = {};
  for (const field of kind.fields) {
    const value = vars[field.variable];
    if (set(value)) out[field.name] = value;
    else if (field.required) return null;
  }
  return out as DestinationValue<D>;
}

/** Why the deployment-wide destination of a kind is missing (the variables unset), or null. */
export function missingVariables(env: Cloudflare.Env, kind: DestinationKindDef): string | null {
  const vars = env as unknown as Record<string, unknown>;
  const missing = kind.fields.filter((f) => f.required && !set(vars[f.variable])).map((f) => f.variable);
  return missing.length > 0 ? `not configured: ${missing.join(", ")} unset` : null;
}
