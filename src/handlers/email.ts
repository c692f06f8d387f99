import { entityActor } from "../rpc/actors.ts";
import { tenantSpace } from "../rpc/names.ts";
import { SkipDelivery } from "../delivery/policy/errors.ts";
import { defineDestination } from "./destination-kind.ts";
import { defineHandler, type HandlerContext } from "./handler.ts";
import { destination, sendJson } from "./http.ts";

export const EMAIL = defineDestination({
  kind: "email",
  summary: "Resend-style email API",
  fields: [
    { name: "url", label: "API URL", type: "url", required: true, secret: false, variable: "EMAIL_API_URL", local: { path: "/email" } },
    { name: "apiKey", label: "API key", type: "text", required: true, secret: true, variable: "EMAIL_API_KEY", local: { value: "test-email-key" } },
    { name: "from", label: "From", type: "text", max: 320, required: true, secret: false, variable: "EMAIL_FROM", local: { value: "edgeflow@example.com" } },
  ],
});

interface Email {
  to: string;
  subject: string;
  text: string;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Sends through a Resend-style API: `POST {EMAIL_API_URL} {from,to,subject,text,html}`. */
async function sendEmail(context: HandlerContext, email: Email): Promise<void> {
  const { url, apiKey: key, from } = destination(context, EMAIL);
  const html = `<p>${escapeHtml(email.text).replace(/\n/g, "<br>")}</p>`;
  await sendJson(context, url, {
    headers: { authorization: `Bearer ${key}` },
    body: { from, to: email.to, subject: email.subject, text: email.text, html },
  });
}

export const welcomeEmail = defineHandler({
  name: "welcome-email",
  mode: "inline",
  docs: { does: "`POST {url} {from,to,subject,text,html}` with `Authorization: Bearer {apiKey}` (Resend-style): a welcome to the new lead", skippedWhen: "no destination; no email address" },
  takes: ["lead.created"],
  destination: EMAIL,
  async run(context) {
    const { email, name } = context.event.data;
    if (typeof email !== "string") throw new SkipDelivery("the lead has no email address");
    const greeting = typeof name === "string" ? `Hi ${name},` : "Hi,";
    await sendEmail(context, { to: email, subject: "Thanks for getting in touch", text: `${greeting}\n\nThanks for reaching out. We'll be in touch shortly.` });
  },
});

/** Confirms an offer to its lead; the address comes from the lead's own actor. */
export const offerEmail = defineHandler({
  name: "offer-email",
  mode: "inline",
  docs: { does: "the same API: confirms the offer to its lead, whose address comes from the lead's own actor", skippedWhen: "no destination; the lead has no email address" },
  takes: ["offer.submitted"],
  destination: EMAIL,
  async run(context) {
    const { leadId, amount, currency } = context.event.data;
    if (typeof leadId !== "string") throw new SkipDelivery("the offer has no leadId");
    const lead = await entityActor(context.env, tenantSpace(context.tenant, context.configuration.record), { type: "lead", id: leadId }).getEntity();
    const email = lead?.state.email;
    if (typeof email !== "string") throw new SkipDelivery(`lead ${leadId} has no email address`);
    await sendEmail(context, {
      to: email,
      subject: "We received your offer",
      text: `We received your offer of ${String(amount)} ${String(currency)} (${context.entity.id}) and will reply soon.`,
    });
  },
});
