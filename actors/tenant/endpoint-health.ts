// What the tenant is told when one of its endpoints is disabled for failing continuously.
import type { EndpointInfo } from "../../src/control/model.ts";
import type { Notification } from "../../src/events/notification.ts";

export function endpointDisabledNotification(tenant: string, endpoint: EndpointInfo): Notification {
  const since = endpoint.failingSince === null ? "a while" : new Date(endpoint.failingSince).toISOString();
  return {
    icon: "no_entry",
    title: "Endpoint disabled",
    text: [
      `[${tenant}] Webhook endpoint ${endpoint.id} (${endpoint.url}) has failed every call since ${since} and is disabled: its deliveries are held, not lost. `,
      `Re-enable it with PATCH /v1/endpoints/${endpoint.id} {"status":"active"}; what it holds is then delivered in order.`,
    ],
    fields: [
      { name: "Endpoint", value: endpoint.id },
      { name: "URL", value: endpoint.url },
      { name: "Failing since", value: since },
    ],
  };
}
