// Runs in every e2e file: wraps `fetch` so every answer from an edgeflow server (the ones
// harness.ts started) is checked against openapi.json, and fails the file if any was not.
import { afterAll, expect } from "vitest";
import { checkAnswer } from "./openapi-check.ts";
import { servedUrls } from "./harness.ts";

const problems: string[] = [];
const original = globalThis.fetch;

globalThis.fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
  const response = await original(input, init);
  const url = new URL(input instanceof Request ? input.url : String(input));
  if (servedUrls.has(url.origin)) {
    const method = (init?.method ?? (input instanceof Request ? input.method : "GET")).toUpperCase();
    const body = await response.clone().text();
    const problem = checkAnswer(method, url.pathname, response.status, response.headers.get("content-type"), body);
    if (problem) problems.push(problem);
  }
  return response;
};

afterAll(() => {
  expect(problems, "answers that do not match openapi.json").toEqual([]);
});
