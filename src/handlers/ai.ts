import { RetryableError } from "../delivery/policy/errors.ts";
import type { JsonObject } from "../types.ts";
import { defineHandler, type HandlerContext, type HandlerResult } from "./handler.ts";
import { defineDestination } from "./destination-kind.ts";
import { destination, sendJson } from "./http.ts";

export const AI = defineDestination({
  kind: "ai",
  summary: "OpenAI-compatible chat completions API",
  fields: [
    { name: "url", label: "API URL", type: "url", required: true, secret: false, variable: "AI_API_URL", local: { path: "/ai" } },
    { name: "apiKey", label: "API key", type: "text", required: false, secret: true, variable: "AI_API_KEY", local: { value: "test-ai-key" } },
    { name: "model", label: "Model", type: "text", max: 200, required: false, secret: false, variable: "AI_MODEL" },
  ],
});

const DEFAULT_MODEL = "gpt-4o-mini";

interface Analysis {
  score: number;
  summary: string;
}

/** Pulls `{score, summary}` out of a model's reply, tolerating prose or code fences around the JSON. */
export function parseAnalysis(content: string): Analysis | null {
  const match = /\{[\s\S]*\}/.exec(content);
  if (!match) return null;
  try {
    const parsed: unknown = JSON.parse(match[0]);
    if (typeof parsed !== "object" || parsed === null) return null;
    const { score, summary } = parsed as Record<string, unknown>;
    const n = typeof score === "string" ? Number(score) : score;
    if (typeof n !== "number" || !Number.isFinite(n) || typeof summary !== "string") return null;
    return { score: Math.max(0, Math.min(100, Math.round(n))), summary: summary.slice(0, 2000) };
  } catch {
    return null;
  }
}

/** Asks an OpenAI-compatible `POST {AI_API_URL}/chat/completions` and stores the result under `analysis`. */
async function analyse(context: HandlerContext, instruction: string, subject: JsonObject): Promise<HandlerResult> {
  const { url, apiKey: key, model: chosen } = destination(context, AI);
  const model = chosen || DEFAULT_MODEL;
  const response = await sendJson(context, `${url.replace(/\/$/, "")}/chat/completions`, {
    headers: key ? { authorization: `Bearer ${key}` } : {},
    body: {
      model,
      temperature: 0,
      response_format: { type: "json_object" },
      messages: [
        { role: "system", content: `${instruction} Answer only with JSON: {"score": <0-100>, "summary": "<one sentence>"}.` },
        { role: "user", content: JSON.stringify(subject) },
      ],
    },
  });
  const reply: unknown = await response.json().catch(() => null);
  // OpenAI's shape: choices[0].message.content. Anything else is a receiver we cannot use.
  const content = (reply as { choices?: Array<{ message?: { content?: unknown } }> } | null)?.choices?.[0]?.message?.content;
  const analysis = typeof content === "string" ? parseAnalysis(content) : null;
  // Models are not deterministic even at temperature 0: a malformed reply is worth another try.
  if (!analysis) throw new RetryableError("the model's reply has no {score, summary} JSON");
  return { statePatch: { analysis: { ...analysis, model, eventId: context.event.id, analysedAt: new Date().toISOString() } } };
}

export const aiAnalysis = defineHandler({
  name: "ai-analysis",
  mode: "queued",
  docs: { does: "`POST {url}/chat/completions` (OpenAI-compatible); stores `{score, summary, model, …}` under `analysis` in the lead's state", skippedWhen: "no destination" },
  takes: ["lead.created"],
  destination: AI,
  run: (context) => analyse(context, "Score this sales lead's quality from 0 to 100 and summarise it.", context.state),
});

export const offerAnalysis = defineHandler({
  name: "offer-analysis",
  mode: "queued",
  docs: { does: "the same for an offer's likelihood to close, stored in the offer's state", skippedWhen: "no destination" },
  takes: ["offer.submitted"],
  destination: AI,
  run: (context) => analyse(context, "Score this sales offer's likelihood to close from 0 to 100 and summarise it.", context.event.data),
});
