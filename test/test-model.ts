import { inject } from "vitest";

/** Path of the small model integration tests run on, fetched by the global setup. */
export async function testModelPath(): Promise<string> {
  return process.env.DELIBERATE_TEST_MODEL ?? inject("testModelPath");
}
